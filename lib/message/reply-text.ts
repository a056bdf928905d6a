import { htmlToText, QUOTE_MARKER } from './html-to-text.ts';

/** The new content of a reply, with quotes, attribution lines, signature and client boilerplate removed. */
export interface ExtractedReply {
  text: string;
  /** The signature block after a `-- ` line, or null. */
  signature: string | null;
  problems: string[];
}

/** Text past this many characters is not examined (the reply is at the top). */
const MAX_INPUT = 1024 * 1024;

// "On <date>, <name> wrote:" and its translations; the attribution may be wrapped over two lines.
const ATTRIBUTION: readonly RegExp[] = [
  /^on\b.{0,300}\bwrote\s*:$/i, // English (Gmail, Apple Mail, Thunderbird)
  /^am\b.{0,300}\bschrieb\b.{0,200}:$/i, // German
  /^le\b.{0,300}\ba [ée]crit\s*:$/i, // French
  /^el\b.{0,300}\bescribi[óo]\s*:$/i, // Spanish
  /^op\b.{0,300}\bschreef\b.{0,200}:$/i, // Dutch
  /^il\b.{0,300}\bha scritto\s*:$/i, // Italian
  /^em\b.{0,300}\bescreveu\s*:$/i, // Portuguese
  /^den\b.{0,300}\bskrev\b.{0,200}:$/i, // Swedish / Danish / Norwegian
  /^.{1,200}\s(wrote|writes|schrieb|a [ée]crit|escribi[óo]|schreef|skrev|ha scritto|escreveu|написала?|napisała?|kirjoitti)\s*:$/i, // "Name wrote:"
];
/** Attributions that only count when quoted lines follow (they are too generic on their own). */
const GENERIC_ATTRIBUTION = ATTRIBUTION[ATTRIBUTION.length - 1]!;

const ORIGINAL_MESSAGE =
  /^\*?-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|oorspronkelijk bericht|messaggio originale|mensagem original|ursprungligt meddelande|opprinnelig melding|oprindelig meddelelse|alkuperäinen viesti|forwarded message|weitergeleitete nachricht|message transféré|mensaje reenviado|doorgestuurd bericht)\s*-{2,}\*?$/i;
// Zoho: "---- On Tue, 22 Dec 2015 14:17:36 +0530 Name <a@b> wrote ----"
const DASHED_ATTRIBUTION = /^-{2,}\s*on\b.{0,300}\bwrote\s*-{2,}$/i;
// "Name <a@b.c> schrieb am Fr., 28." — an address followed by the verb, the date may wrap to the next line
const ADDRESS_ATTRIBUTION =
  /@[^\s>@]{1,200}>?\s+(wrote|writes|schrieb|a [ée]crit|escribi[óo]|schreef|skrev|ha scritto|escreveu|написала?|napisała?)(\s*:?\s*$|\s+(am|on|le|el|op|den|il|em|dne)\b)/i;
const FORWARD_BEGIN = /^begin forwarded message:$/i;
const UNDERSCORES = /^_{20,}$/;
// Outlook-style header block: "From: …" followed by "Sent:"/"Date:"/"To:"/"Subject:" lines
const HEADER_FROM = /^\*?(from|von|de|van|da|från|fra|lähettäjä|od|от)\s*:\*?\s*\S/i;
const HEADER_OTHER =
  /^\*?(sent|date|to|cc|subject|gesendet|datum|an|betreff|envoyé|à|objet|enviado|fecha|para|asunto|verzonden|aan|onderwerp|inviato|oggetto|data|assunto|skickat|ämne|till|wysłano|do|temat|отправлено|кому|тема|дата)\s*:\*?/i;

const MOBILE_BOILERPLATE: readonly RegExp[] = [
  /^\(?sent (from|with|via|by|using) (my |a )?\S.{0,100}$/i,
  /^<<sent by .{1,60}>>$/i,
  /^from my (iphone|ipad|android|mobile|phone|blackberry).{0,40}$/i,
  /^get (\[)?outlook for (ios|android).{0,80}$/i,
  /^(von meinem|gesendet von meinem|gesendet mit) .{1,60}$/i,
  /^diese nachricht wurde von meinem .{1,100} gesendet\.?$/i,
  /^envoy[ée] (de|depuis|avec) (mon|ma) .{1,60}$/i,
  /^enviado (desde|de) mi .{1,60}$/i,
  /^(verzonden|verstuurd) (vanaf|met|van) .{1,60}$/i,
  /^inviato da .{1,60}$/i,
  /^(skickat|sendt) fr[aå]n? min .{1,60}$/i,
  /^wysłane z .{1,60}$/i,
  /^отправлено с .{1,60}$/i,
  /^從我的 .{1,30} 傳送$/,
  /^发自我的.{1,30}$/,
];

/** A line of only dashes, underscores or equals signs (a client's separator left at the end). */
const RULE_LINE = /^[-_=*]{5,}$/;

function isQuoteLine(line: string): boolean {
  return line.startsWith('>');
}

function isBlank(line: string): boolean {
  // U+1427 is the invisible tracking mark Gmail appends; U+200B-U+200F and U+FEFF are invisible too
  return line.replace(/[\u1427\u200b-\u200f\ufeff]/g, '').trim() === '';
}

/** Index of the next non-blank line at or after `from`, or -1. */
function nextContent(lines: string[], from: number, limit = 6): number {
  for (let i = from; i < lines.length && i < from + limit; i++) if (!isBlank(lines[i]!)) return i;
  return -1;
}

function isAttribution(text: string): boolean {
  return ATTRIBUTION.some((re) => re !== GENERIC_ATTRIBUTION && re.test(text));
}

/** Whether quoted lines (or nothing) follow line `i`. */
function quotedFollows(lines: string[], i: number): boolean {
  const next = nextContent(lines, i + 1);
  return next < 0 || isQuoteLine(lines[next]!.trimStart());
}

function isOutlookHeader(lines: string[], i: number): boolean {
  if (!HEADER_FROM.test(lines[i]!.trim())) return false;
  let others = 0;
  for (let j = i + 1; j < lines.length && j <= i + 8; j++) {
    const t = lines[j]!.trim();
    if (!t) continue;
    if (HEADER_OTHER.test(t)) others++;
  }
  return others >= 2;
}

interface QuoteStart {
  index: number;
  /** `attribution`: an "On … wrote:" line (spanning `lines` lines) introducing `>` quotes. */
  kind: 'marker' | 'separator' | 'header' | 'attribution';
  lines: number;
}

/** The first line of the quoted original (attribution, separator, header block, quote container), or null. */
function findQuoteStart(lines: string[]): QuoteStart | null {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    if (line === QUOTE_MARKER) return { index: i, kind: 'marker', lines: 1 };
    if (line.length > 600 || line.startsWith('>')) continue;
    if ((line.startsWith('-') || line.startsWith('*')) && ORIGINAL_MESSAGE.test(line)) {
      return { index: i, kind: 'separator', lines: 1 };
    }
    if (line.startsWith('-') && DASHED_ATTRIBUTION.test(line))
      return { index: i, kind: 'attribution', lines: 1 };
    if (line.includes('@') && ADDRESS_ATTRIBUTION.test(line)) {
      // the name or date may have wrapped onto the line before ("… пользователь "a@b" <")
      const prev = i > 0 ? lines[i - 1]!.trim() : '';
      if (prev && /[<"',]$/.test(prev)) return { index: i - 1, kind: 'attribution', lines: 2 };
      return { index: i, kind: 'attribution', lines: 1 };
    }
    if (FORWARD_BEGIN.test(line)) return { index: i, kind: 'separator', lines: 1 };
    if (line.startsWith('_') && UNDERSCORES.test(line)) {
      const next = nextContent(lines, i + 1, 4);
      const t = next >= 0 ? lines[next]!.trim() : '';
      if (HEADER_FROM.test(t) || HEADER_OTHER.test(t)) return { index: i, kind: 'separator', lines: 1 };
      continue;
    }
    if (i > 0 && line.includes(':') && isOutlookHeader(lines, i))
      return { index: i, kind: 'header', lines: 1 };
    if (line.endsWith(':') && isAttribution(line)) return { index: i, kind: 'attribution', lines: 1 };
    // attribution wrapped over two (or three) lines by the sender's client
    if (/^(on|am|le|el|op|il|em|den)\b/i.test(line)) {
      const joined2 = `${line} ${lines[i + 1]?.trim() ?? ''}`;
      if (isAttribution(joined2)) return { index: i, kind: 'attribution', lines: 2 };
      const joined3 = `${joined2} ${lines[i + 2]?.trim() ?? ''}`;
      if (isAttribution(joined3)) return { index: i, kind: 'attribution', lines: 3 };
    }
    if (line.endsWith(':') && GENERIC_ATTRIBUTION.test(line) && quotedFollows(lines, i)) {
      return { index: i, kind: 'attribution', lines: 1 };
    }
  }
  return null;
}

/**
 * Drops an attribution left at the end once the trailing quote is gone: the last one or two lines end
 * in `:` and carry a date or an address (`02.04.2012 14:20 user <a@b> написал:`), in any language.
 */
function stripTrailingAttribution(lines: string[]): string[] {
  const end = lines.length;
  if (end === 0) return lines;
  const last = lines[end - 1]!.trim();
  if (!last.endsWith(':') || last.length > 300) return lines;
  for (const span of [1, 2]) {
    if (end - span < 0) break;
    const joined = lines
      .slice(end - span, end)
      .map((l) => l.trim())
      .join(' ');
    if (/\d/.test(joined) && (/@/.test(joined) || /\d{1,2}:\d{2}/.test(joined)))
      return lines.slice(0, end - span);
  }
  return lines;
}

function trimBlankEdges(lines: string[]): string[] {
  let start = 0;
  let end = lines.length;
  while (start < end && isBlank(lines[start]!)) start++;
  while (end > start && isBlank(lines[end - 1]!)) end--;
  return lines.slice(start, end);
}

/** Removes trailing quoted blocks (with the blank lines around them). */
function stripTrailingQuotes(lines: string[]): string[] {
  let end = lines.length;
  while (end > 0 && (isBlank(lines[end - 1]!) || isQuoteLine(lines[end - 1]!.trimStart()))) end--;
  return lines.slice(0, end);
}

/** Removes "Sent from my iPhone"-style lines at the end. */
function stripMobileBoilerplate(lines: string[]): string[] {
  let end = lines.length;
  while (end > 0) {
    const t = lines[end - 1]!.trim();
    if (!t || RULE_LINE.test(t) || MOBILE_BOILERPLATE.some((re) => re.test(t))) end--;
    else break;
  }
  return lines.slice(0, end);
}

/** Splits off a signature introduced by a `-- ` line (or a bare `--` followed by a short block). */
function splitSignature(lines: string[]): { body: string[]; signature: string | null } {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    const exact = line === '-- ' || line === '> -- ';
    const bare = line.trimEnd() === '--' && lines.length - i - 1 <= 10;
    if (exact || bare) {
      const signature = trimBlankEdges(lines.slice(i + 1)).join('\n');
      return { body: lines.slice(0, i), signature: signature || null };
    }
  }
  return { body: lines, signature: null };
}

/**
 * Extracts what the sender wrote from a reply: cuts at the quoted original (`On … wrote:` in English,
 * German, French, Spanish, Dutch and more, `-----Original Message-----`, Outlook `From:/Sent:` blocks,
 * `____` separators, client quote containers in HTML), drops trailing `>` quotes and "Sent from my
 * iPhone" lines, and splits off a signature after `-- `. Works from the HTML (converted to text) when
 * there is no text. Never returns empty text when the message had content: if stripping removes
 * everything, the full text is returned with a `reply-fallback` problem.
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
  const all = source.replace(/\r\n?/g, '\n').split('\n');
  const full = trimBlankEdges(all.filter((l) => l.trim() !== QUOTE_MARKER))
    .join('\n')
    .trim();

  const cut = findQuoteStart(all);
  let reply = cleanReply(cut ? all.slice(0, cut.index) : all);
  if (!reply.text && cut && cut.kind !== 'separator' && cut.kind !== 'header') {
    // bottom-posting: the answer follows the quote; keep the unquoted lines after it
    reply = cleanReply(all.slice(cut.index + cut.lines).filter((l) => !isQuoteLine(l.trimStart())));
  }

  if (!reply.text && full) {
    problems.push(
      'reply-fallback: nothing was left after removing quotes and signature; using the full text',
    );
    return { text: full, signature: null, problems };
  }
  return { text: reply.text, signature: reply.signature, problems };
}

/** Removes quote markers, trailing quotes and attribution, signature and mobile boilerplate. */
function cleanReply(input: string[]): { text: string; signature: string | null } {
  let lines = input.filter((l) => l.trim() !== QUOTE_MARKER);
  lines = stripTrailingAttribution(stripTrailingQuotes(lines));
  const { body, signature } = splitSignature(lines);
  lines = stripTrailingAttribution(stripTrailingQuotes(stripMobileBoilerplate(body)));
  return { text: trimBlankEdges(lines).join('\n').trim(), signature };
}
