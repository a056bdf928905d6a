import { htmlToText, QUOTE_MARKER } from './html-to-text.ts';
import {
  attributionStrength,
  canOpenAttribution,
  endsWithColon,
  isAnyHeader,
  isBlank,
  isDashedAttribution,
  isDatedAttribution,
  isEmptyQuoteLine,
  isFromHeader,
  isMobileBoilerplate,
  isQuoteLine,
  isRuleLine,
  isSeparator,
  looksLikeHeader,
  MAX_ATTRIBUTION,
  MAX_PATTERN_LINE,
  opensWithLead,
} from './reply-patterns.ts';
import { splitSignature } from './reply-signature.ts';

/** The new content of a reply, with quotes, attribution lines, signature and client boilerplate removed. */
export interface ExtractedReply {
  text: string;
  /**
   * The signature split off the reply (after `-- `, a rule line, a name-and-contact block, a name over
   * "via mobile"), followed by the client sign-off under the text ("Sent from my iPhone"), or null.
   */
  signature: string | null;
  problems: string[];
}

/** Text past this many characters is not examined (the reply is at the top). */
const MAX_INPUT = 1024 * 1024;

/**
 * Where the quoted history (or something to skip) starts.
 * - `marker`: an HTML quote container (Gmail, Outlook, Yahoo, Thunderbird …)
 * - `separator`: "-----Original Message-----", "---------- Forwarded message ---------", `____` + headers
 * - `header`: an Outlook-style "From: / Sent: / To: / Subject:" block
 * - `attribution`: "On … wrote:" and its translations, possibly wrapped over several lines
 * - `mobile`: "Sent from my iPhone" on its own paragraph: whatever follows was not typed by the sender
 */
interface Cut {
  index: number;
  /** The first line after the marker itself. */
  end: number;
  kind: 'marker' | 'separator' | 'header' | 'attribution' | 'mobile';
  /** Attributions: carries a date or address (`On Mon, 6 Jan 2020, Ann <a@b> wrote:`), not just `Ann wrote:`. */
  strong: boolean;
}

/** Index of the next non-blank line at or after `from` (looking at most `limit` lines), or -1. */
function nextContent(lines: string[], from: number, limit = 6): number {
  for (let i = from; i < lines.length && i < from + limit; i++) if (!isBlank(lines[i]!)) return i;
  return -1;
}

/** Whether quoted lines (or nothing at all) follow line `end - 1`. */
function quotedFollows(lines: string[], end: number): boolean {
  const next = nextContent(lines, end);
  return next < 0 || isQuoteLine(lines[next]!);
}

/** `> wrote:` or `>:` — the tail of an attribution whose `<address>` wrapped, not a quoted line. */
function isWrappedAttributionTail(line: string): boolean {
  return line.length < 60 && /^>\s?[^>]{0,40}[:：]$/.test(line);
}

/** The attribution of lines `i` to `end - 1`; a weak one only when quoted lines (or nothing) follow. */
function acceptAttribution(lines: string[], i: number, end: number, strength: 'strong' | 'weak'): Cut | null {
  if (strength === 'weak' && !quotedFollows(lines, end)) return null;
  return { index: i, end, kind: 'attribution', strong: strength === 'strong' };
}

/**
 * Whether a line from `from` to `to - 1` ends with a colon: a wrapped attribution ends on one, so without
 * one there is nothing to join (text of numbered or dated lines is not rescanned line by line).
 */
function colonEndsWithin(lines: string[], from: number, to: number): boolean {
  for (let j = from; j < lines.length && j < to; j++) if (endsWithColon(lines[j]!)) return true;
  return false;
}

/** An attribution starting at line `i`, on one line or wrapped over up to five. */
function attributionAt(lines: string[], i: number): Cut | null {
  const first = lines[i]!.trim();
  const strength = attributionStrength(first);
  if (strength) return acceptAttribution(lines, i, i + 1, strength);
  if (!canOpenAttribution(first) || !colonEndsWithin(lines, i + 1, i + 9)) return null;
  let joined = first;
  let joinedLines = 1;
  let blanks = 0;
  for (let j = i + 1; j < lines.length && j < i + 9 && joinedLines < 5; j++) {
    const t = lines[j]!.trim();
    if (isBlank(t)) {
      if (++blanks > 1) return null;
      continue;
    }
    blanks = 0;
    if (t.length > 200 || (isQuoteLine(t) && !isWrappedAttributionTail(t))) return null;
    // a later line opening an attribution of its own is where this one starts
    if (opensWithLead(t)) return null;
    joined += ` ${t}`;
    joinedLines++;
    if (joined.length > MAX_ATTRIBUTION) return null;
    if (t.endsWith(':') || t.endsWith('：')) {
      const strength = attributionStrength(joined);
      if (strength) return acceptAttribution(lines, i, j + 1, strength);
    }
    if (/[.!?]$/.test(t)) return null;
  }
  return null;
}

/**
 * An Outlook-style header block starting at line `i`: a "From:" line with at least two more header
 * lines ("Sent:", "To:", "Subject:", in many languages) among the next eight, and an address or a
 * date somewhere in it (so "From: Berlin / To: Paris / Via: Rome" in a message is left alone).
 */
function isHeaderBlock(lines: string[], i: number): boolean {
  const first = lines[i]!.trim();
  if (!isFromHeader(first)) return false;
  let others = 0;
  let evidence = first.includes('@') || /\d/.test(first);
  for (let j = i + 1; j < lines.length && j <= i + 8; j++) {
    const t = lines[j]!.trim();
    if (!t) continue;
    if (isAnyHeader(t)) {
      others++;
      if (t.includes('@') || /\d/.test(t)) evidence = true;
    }
  }
  return others >= 2 && evidence;
}

/** Moves a header block's start back over a "Message du : …" line or a rule line directly above it. */
function headerBlockStart(lines: string[], i: number): number {
  let start = i;
  while (start > 0 && i - start < 3) {
    const prev = lines[start - 1]!.trim();
    if (prev && (isRuleLine(prev) || isSeparator(prev) || (looksLikeHeader(prev) && /\d/.test(prev))))
      start--;
    else break;
  }
  return start;
}

/** The marker of quoted history (or client boilerplate) at line `i`, or null. */
function cutAt(lines: string[], i: number): Cut | null {
  const line = lines[i]!.trim();
  if (!line || line.length > MAX_PATTERN_LINE) return null;
  if (line === QUOTE_MARKER) return { index: i, end: i + 1, kind: 'marker', strong: true };
  if (isQuoteLine(line)) return null;
  if (isSeparator(line)) return { index: i, end: i + 1, kind: 'separator', strong: true };
  if (isDashedAttribution(line)) return { index: i, end: i + 1, kind: 'attribution', strong: true };
  if (isRuleLine(line)) {
    const next = nextContent(lines, i + 1, 4);
    if (next >= 0 && isAnyHeader(lines[next]!.trim())) {
      return { index: i, end: i + 1, kind: 'separator', strong: true };
    }
    return null;
  }
  if (line.includes(':') && isHeaderBlock(lines, i)) {
    return { index: headerBlockStart(lines, i), end: i + 1, kind: 'header', strong: true };
  }
  const attribution = attributionAt(lines, i);
  if (attribution) return attribution;
  // Gmail's colon-less "2013/7/20 Ann <ann@example.com>": only on a line of its own
  if (
    isDatedAttribution(line) &&
    (i + 1 >= lines.length || isBlank(lines[i + 1]!) || quotedFollows(lines, i + 1))
  ) {
    return { index: i, end: i + 1, kind: 'attribution', strong: true };
  }
  if ((i === 0 || isBlank(lines[i - 1]!)) && isMobileBoilerplate(line)) {
    return { index: i, end: i + 1, kind: 'mobile', strong: true };
  }
  return null;
}

function findCut(lines: string[], from: number): Cut | null {
  for (let i = from; i < lines.length; i++) {
    const cut = cutAt(lines, i);
    if (cut) return cut;
  }
  return null;
}

/** Whether any line is something the sender typed (not blank, not quoted). */
function hasOwnContent(lines: readonly string[], from = 0, to = lines.length): boolean {
  for (let i = from; i < to; i++) {
    const line = lines[i]!;
    if (!isBlank(line) && !isQuoteLine(line) && line.trim() !== QUOTE_MARKER) return true;
  }
  return false;
}

/** The block of `>` lines (with blank lines inside) starting at the first non-blank line from `from`. */
function quoteBlockAfter(lines: string[], from: number): { start: number; end: number } | null {
  let k = from;
  while (k < lines.length && isBlank(lines[k]!)) k++;
  if (k >= lines.length || !isQuoteLine(lines[k]!)) return null;
  let end = k + 1;
  for (let m = k; m < lines.length; m++) {
    const line = lines[m]!;
    if (isQuoteLine(line)) end = m + 1;
    else if (!isBlank(line)) break;
  }
  return { start: k, end };
}

/**
 * Whether the sender's own text follows a quote block ending at `end` (an inline or bottom-posted
 * answer). With `separated`, the text must be set apart by a blank line or an empty `>` line, so the
 * unquoted tail of a quoted line that a client wrapped is not taken for an answer.
 */
function answerFollows(lines: string[], end: number, separated: boolean): boolean {
  const next = nextContent(lines, end, 4);
  if (next < 0) return false;
  if (separated && next === end && !isEmptyQuoteLine(lines[end - 1]!)) return false;
  const t = lines[next]!.trim();
  if (t.length > MAX_PATTERN_LINE) return true;
  if (t === '--' || isRuleLine(t) || isMobileBoilerplate(t)) return false;
  return cutAt(lines, next) === null;
}

/** Skips a header block ("From: … / Date: … / Subject: …", wrapped lines included) up to its blank line. */
function skipHeaderBlock(lines: string[], from: number): number {
  const first = nextContent(lines, from, 3);
  if (first < 0 || !isAnyHeader(lines[first]!.trim())) return from;
  let i = first;
  while (i < lines.length && i < first + 30 && !isBlank(lines[i]!)) i++;
  return i;
}

/**
 * Walks the message from the top, keeping what the sender wrote. At each marker of quoted history:
 * - with nothing of the sender's above it, the marker is skipped (bottom-posting, a forward with a note
 *   below, "Sent from my iPhone" first) and, for an attribution, the quote right under it too;
 * - an attribution whose quote is followed by more of the sender's text is an inline answer: the
 *   attribution goes, the quote stays for context;
 * - otherwise everything from the marker on is history.
 */
function collectReply(lines: string[]): string[] {
  const out: string[] = [];
  let ownContent = false;
  let pos = 0;
  while (pos < lines.length) {
    const cut = findCut(lines, pos);
    if (!cut) {
      for (let i = pos; i < lines.length; i++) out.push(lines[i]!);
      break;
    }
    ownContent ||= hasOwnContent(lines, pos, cut.index);
    const top = !ownContent;
    for (let i = pos; i < cut.index; i++) out.push(lines[i]!);
    if (cut.kind === 'attribution') {
      const quote = quoteBlockAfter(lines, cut.end);
      if (top) {
        pos = quote ? quote.end : cut.end;
        continue;
      }
      if (quote && answerFollows(lines, quote.end, true)) {
        // a strong attribution goes; a weak one ("Here is what Ann wrote:") may be the sender's own words
        for (let i = cut.strong ? quote.start : cut.index; i < quote.end; i++) out.push(lines[i]!);
        pos = quote.end;
        continue;
      }
      break;
    }
    if (!top) {
      // kept for the signature: stripTrailing takes it off the text
      if (cut.kind === 'mobile') out.push(lines[cut.index]!);
      break;
    }
    // nothing written above: skip the marker (and a forward's or header block's header lines)
    pos = cut.kind === 'separator' || cut.kind === 'header' ? skipHeaderBlock(lines, cut.end) : cut.end;
  }
  return out;
}

/** Whether the last one or two non-blank lines are an attribution left behind once its quote is gone. */
function trailingAttribution(lines: string[], end: number, quotesRemoved: boolean): number {
  const last = lines[end - 1]!.trim();
  if (isDatedAttribution(last)) return end - 1;
  if (!last.endsWith(':') && !last.endsWith('：')) return end;
  for (const span of [1, 2, 3]) {
    const start = end - span;
    if (start < 0) break;
    const joined = lines
      .slice(start, end)
      .map((l) => l.trim())
      .join(' ');
    if (joined.length > MAX_ATTRIBUTION) break;
    const strength = attributionStrength(joined);
    if (strength === 'strong' || (strength === 'weak' && quotesRemoved)) return start;
    // "30 серп. 2016 р. 20:45 "Arpit" <a@b> пише:" in a language we have no verb for: a date and an
    // address, ending in a colon, right above the quote that was removed
    if (quotesRemoved && /\d/.test(joined) && (joined.includes('@') || /\d{1,2}:\d{2}/.test(joined))) {
      return start;
    }
  }
  return end;
}

/**
 * Removes trailing blank lines, quotes, attributions, rule lines and "Sent from my …" lines; the last
 * "Sent from my …" line removed (the one right under the sender's text) goes to `signoff` when given.
 */
function stripTrailing(lines: string[], signoff?: string[]): string[] {
  let end = lines.length;
  let quotesRemoved = false;
  while (end > 0) {
    const line = lines[end - 1]!;
    const t = line.trim();
    if (isBlank(line) || t === QUOTE_MARKER || isRuleLine(t)) {
      end--;
    } else if (isQuoteLine(line)) {
      quotesRemoved = true;
      end--;
    } else if (isMobileBoilerplate(t)) {
      if (signoff) signoff[0] = t;
      end--;
    } else {
      const start = trailingAttribution(lines, end, quotesRemoved);
      if (start === end) break;
      end = start;
    }
  }
  return lines.slice(0, end);
}

function trimBlankEdges(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && isBlank(lines[start]!)) start++;
  while (end > start && isBlank(lines[end - 1]!)) end--;
  return lines.slice(start, end);
}

/** Removes trailing history and boilerplate and splits off the signature. */
function finish(input: string[]): { text: string; signature: string | null } {
  const signoff: string[] = [];
  let lines = stripTrailing(
    input.filter((l) => l.trim() !== QUOTE_MARKER),
    signoff,
  );
  let signature: string | null = null;
  const split = splitSignature(lines);
  if (split) {
    lines = stripTrailing(split.body);
    signature = split.signature || null;
  }
  // a client sign-off ("Sent from my iPhone") is part of the signature, as mail clients and talon see it
  if (signoff[0]) signature = signature ? `${signature}\n${signoff[0]}` : signoff[0];
  return { text: trimBlankEdges(lines).join('\n').trimEnd(), signature };
}

/**
 * What to return when nothing of the sender's was found: the whole text, or nothing when it is only
 * attribution lines (a message of nested "> On … wrote:" lines and nothing else).
 */
function fallbackText(lines: string[]): string {
  const kept = lines.filter((line) => line.trim() !== QUOTE_MARKER);
  const meaningful = kept.some((line) => {
    const inner = line.trim().replace(/^[>\s]+/, '');
    if (!inner || isBlank(inner)) return false;
    return !(inner.length <= MAX_ATTRIBUTION && attributionStrength(inner) === 'strong');
  });
  return meaningful ? trimBlankEdges(kept).join('\n').trimEnd() : '';
}

/**
 * Extracts what the sender wrote from a reply: cuts at the quoted original (`On … wrote:` in English,
 * German, French, Spanish, Dutch, Scandinavian, Finnish, Polish, Russian and more, wrapped or not;
 * `-----Original Message-----` and forwarded-message separators; Outlook `From:/Sent:/To:/Subject:`
 * blocks in many languages; client quote containers in HTML), keeps quotes that the sender answered
 * inline, drops trailing `>` quotes and "Sent from my iPhone"-style lines, and splits off a signature.
 * Works from the HTML (converted to text) when there is no text. Never returns empty text when the
 * sender wrote something: if stripping removes everything, the full text is returned with a
 * `reply-fallback` problem.
 *
 * Linear in the input: every pattern is applied to bounded lines (or a join of at most five of them).
 *
 * @param text - The plain-text body, or null.
 * @param html - The HTML body, or null.
 */
export function extractReply(text: string | null, html: string | null): ExtractedReply {
  const problems: string[] = [];
  let source = text !== null && text.trim() !== '' ? text : null;
  if (source === null && html !== null && html.trim() !== '') {
    source = htmlToText(html.length > MAX_INPUT * 2 ? html.slice(0, MAX_INPUT * 2) : html, {
      markQuotes: true,
    });
  }
  if (source === null) return { text: '', signature: null, problems };
  if (source.length > MAX_INPUT) {
    source = source.slice(0, MAX_INPUT);
    problems.push(`reply-truncated: only the first ${MAX_INPUT} characters were examined for the reply`);
  }
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const reply = finish(collectReply(lines));
  if (reply.text) return { text: reply.text, signature: reply.signature, problems };

  const full = fallbackText(lines);
  if (!full) {
    if (hasOwnContent(lines) || lines.some((l) => !isBlank(l) && l.trim() !== QUOTE_MARKER)) {
      problems.push('reply-fallback: the message holds only quoted attribution lines; the reply is empty');
    }
    return { text: '', signature: null, problems };
  }
  problems.push('reply-fallback: nothing was left after removing quotes and signature; using the full text');
  return { text: full, signature: null, problems };
}
