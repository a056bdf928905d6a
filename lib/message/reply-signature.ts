/**
 * Signature detection for reply extraction. Conservative on purpose: a block is only called a signature
 * when it is introduced by the standard `-- ` delimiter, by a rule line (`____`, `-----`, `—————`) on its
 * own paragraph followed by a short block with contact details, or is a trailing name-and-contact block
 * ("Ann Example / ann@example.com / +1 555 0100"; also "Ann Example, Ph.D. / President / Example Ltd /
 * ann@example.com / www.example.com"), or a name over a mobile sign-off ("Ann Example / via mobile").
 * Whatever is split off is returned, never dropped.
 */
import { isBlank, isRuleLine } from './reply-patterns.ts';

export interface SignatureSplit {
  body: string[];
  signature: string;
}

/** Lines after a `-- ` delimiter that can still be a signature (beyond this it is more likely content). */
const MAX_DELIMITED_SIGNATURE = 60;
/** A bare `--` (no trailing space) is only trusted with a short block after it. */
const MAX_BARE_SIGNATURE = 12;

const EMAIL = /[^\s@<>()]{1,64}@[^\s@<>()]{1,255}\.[a-z]{2,24}/i;
const PHONE = /(?:^|[\s:.(])\+?\d[\d\s().\-/]{6,20}\d(?:$|\s)/;
const URL = /\bhttps?:\/\/|\bwww\./i;
const LABELED =
  /^(?:t|m|f|p|e|tel|phone|mobile|mob|cell|fax|skype|email|e-mail|web|twitter|linkedin)\s?[.:]/i;
const NAME = /^[\p{Lu}][\p{L}\p{M}'.-]{0,30}(?: [\p{Lu}][\p{L}\p{M}'.-]{0,30}){0,3}$/u;

function isContact(line: string): boolean {
  const t = line.trim();
  if (t.length > 120) return false;
  return EMAIL.test(t) || URL.test(t) || LABELED.test(t) || PHONE.test(` ${t} `);
}

function nonBlank(lines: string[]): string[] {
  return lines.filter((l) => !isBlank(l));
}

function hasContent(lines: string[], end: number): boolean {
  for (let i = 0; i < end; i++) if (!isBlank(lines[i]!)) return true;
  return false;
}

function split(lines: string[], at: number): SignatureSplit {
  let start = at + 1;
  let end = lines.length;
  while (start < end && isBlank(lines[start]!)) start++;
  while (end > start && isBlank(lines[end - 1]!)) end--;
  return { body: lines.slice(0, at), signature: lines.slice(start, end).join('\n') };
}

/** A `-- ` (or bare `--`) delimiter line followed by a plausible signature. */
function delimited(lines: string[]): SignatureSplit | null {
  // non-blank lines after each line, counted once from the end (keeps this linear)
  const after = new Array<number>(lines.length + 1).fill(0);
  for (let i = lines.length - 1; i >= 0; i--) after[i] = after[i + 1]! + (isBlank(lines[i]!) ? 0 : 1);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const exact = line === '-- ' || line === '--\u00a0';
    if (!exact && line.trim() !== '--') continue;
    if (after[i + 1]! <= (exact ? MAX_DELIMITED_SIGNATURE : MAX_BARE_SIGNATURE)) return split(lines, i);
  }
  return null;
}

/** A rule line on its own paragraph, then a short block with contact details (or one or two lines). */
function ruled(lines: string[]): SignatureSplit | null {
  for (let i = lines.length - 1; i > 0; i--) {
    const t = lines[i]!.trim();
    if (!isRuleLine(t)) continue;
    if (!isBlank(lines[i - 1]!) || !hasContent(lines, i)) return null;
    const block = nonBlank(lines.slice(i + 1));
    if (block.length === 0 || block.length > 12 || block.some((l) => l.trim().length > 100)) return null;
    const contacts = block.filter(isContact).length;
    if (contacts >= 1 || (t.length >= 10 && block.length <= 3)) return split(lines, i);
    return null;
  }
  return null;
}

/** The last paragraph is a name followed by contact lines: "Ann Example / ann@example.com / +1 555 0100". */
function contactBlock(lines: string[]): SignatureSplit | null {
  const { start, block } = lastParagraph(lines);
  if (block.length < 3 || block.length > 6 || !hasContent(lines, start)) return null;
  if (block.some((l) => l.length > 60) || !NAME.test(block[0]!)) return null;
  if (block.slice(1).filter(isContact).length < 2) return null;
  return { body: lines.slice(0, start), signature: block.join('\n') };
}

/** A short line that can open a signature block: a name, a title, a company ("Ann Example, Ph.D."). */
function isHeading(line: string): boolean {
  return line.length <= 40 && line.split(' ').length <= 6 && !/[:;,?!]$/.test(line);
}

/**
 * The last paragraph is one to three heading lines (name, title, company) and then only contact lines,
 * at least two, one of them an address or a number (URLs alone are more likely content).
 */
function titledContactBlock(lines: string[]): SignatureSplit | null {
  const { start, block } = lastParagraph(lines);
  if (block.length < 3 || block.length > 6 || !hasContent(lines, start)) return null;
  const first = block.findIndex(isContact);
  if (first < 1 || first > 3 || !block.slice(0, first).every(isHeading)) return null;
  const contacts = block.slice(first);
  if (contacts.length < 2 || !contacts.every(isContact) || contacts.every((l) => URL.test(l))) return null;
  if (contacts.some((l) => l.length > 60)) return null;
  return { body: lines.slice(0, start), signature: block.join('\n') };
}

/** "via mobile", "from my phone": a sign-off some mobile clients put under the sender's name. */
const MOBILE_SIGNOFF = /^(?:sent )?(?:via|from) (?:my )?(?:mobile|phone|cell|iphone|android)\.?$/i;

/** The last paragraph is a name over a mobile sign-off: "Ann Example / via mobile". */
function nameOverMobile(lines: string[]): SignatureSplit | null {
  const { start, block } = lastParagraph(lines);
  if (block.length !== 2 || !hasContent(lines, start)) return null;
  if (!NAME.test(block[0]!) || !MOBILE_SIGNOFF.test(block[1]!)) return null;
  return { body: lines.slice(0, start), signature: block.join('\n') };
}

function lastParagraph(lines: string[]): { start: number; block: string[] } {
  let end = lines.length;
  while (end > 0 && isBlank(lines[end - 1]!)) end--;
  let start = end;
  while (start > 0 && !isBlank(lines[start - 1]!)) start--;
  return { start, block: lines.slice(start, end).map((l) => l.trim()) };
}

/** Splits a signature off the end of a reply (see the module comment for what counts), or returns null. */
export function splitSignature(lines: string[]): SignatureSplit | null {
  return (
    delimited(lines) ??
    ruled(lines) ??
    contactBlock(lines) ??
    titledContactBlock(lines) ??
    nameOverMobile(lines)
  );
}
