/**
 * Per-corpus agreement of `parseMessage` with the expectations the shared corpora hold as data.
 *
 *   npm run bench:corpora [-- --json out.json] [-- --misses stalwart:text]
 *
 * Reads `MAILROOM_CORPORA` (default `../shared/corpora`). For each corpus with machine-readable
 * expectations, counts per field how many messages agree (agreed/total) and prints a table, then the JSON.
 * `--misses corpus:field` lists the messages that disagree on one field (for debugging).
 *
 * - stalwart-mail-parser: every NNN.eml against NNN.json (LF) and NNN.crlf.json (the message with CRLF):
 *   subject, from (first address), to (addresses in order), text (its text_body parts that are text, joined),
 *   html (its html_body parts that are HTML, joined), attachments (count and sorted declared file names: the
 *   `<Subject>.eml` Mailroom gives an unnamed embedded message counts as no name), attachment
 *   sizes (each binary attachment's decoded size is among ours). Text and HTML compared whitespace-collapsed.
 * - james-mime4j: every *.msg whose *_decoded.xml lists decoded leaf parts outside an embedded message:
 *   binary parts (each *.bin's SHA-256 is one of our attachments'), text parts (each *.txt is our
 *   text/HTML, whitespace-collapsed, or one of our attachments by SHA-256).
 * - mimekit: the content-length mbox, each message cut at its expected offsets, against
 *   content-length-summary.txt: subject, from, and the non-text leaf types outside embedded messages
 *   (message/rfc822 itself counted) against our non-text attachments' types.
 * - apache-spamassassin: t/mimeparse.t (part hashes) is not in this copy: reported as absent.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseMessage } from '../lib/message/index.ts';
import type { ParsedMessage } from '../lib/message/types.ts';

const { values } = parseArgs({
  options: { json: { type: 'string' }, misses: { type: 'string' } },
});
const root = resolve(process.env.MAILROOM_CORPORA ?? resolve(import.meta.dirname, '../../shared/corpora'));

type Tally = Record<string, { agreed: number; total: number; misses: string[] }>;
const results: Record<string, Tally | { absent: string }> = {};

function count(tally: Tally, field: string, ok: boolean | null, id: string): void {
  if (ok === null) return;
  tally[field] ??= { agreed: 0, total: 0, misses: [] };
  const t = tally[field]!;
  t.total++;
  if (ok) t.agreed++;
  else t.misses.push(id);
}

const squash = (s: string | null): string | null => {
  if (s === null) return null;
  const out = s.replace(/\s+/g, ' ').trim();
  return out === '' ? null : out;
};
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

// ---- stalwart-mail-parser

interface SHeader {
  name: unknown;
  value: Record<string, unknown>;
}
interface SPart {
  headers: SHeader[];
  body: Record<string, unknown>;
}
interface SMessage {
  text_body: number[];
  html_body: number[];
  attachments: number[];
  parts: SPart[];
}
interface SAddr {
  address?: string | null;
}

function sHeader(part: SPart, name: string): Record<string, unknown> | undefined {
  return part.headers.find((h) => h.name === name)?.value;
}

function sAddresses(value: Record<string, unknown> | undefined): string[] {
  const a = value?.Address as { List?: SAddr[]; Group?: Array<{ addresses?: SAddr[] }> } | undefined;
  const list = a?.List ?? a?.Group?.flatMap((g) => g.addresses ?? []) ?? [];
  return list.map((x) => (x.address ?? '').toLowerCase()).filter((x) => x !== '');
}

function sFilename(part: SPart): string | null {
  for (const [header, param] of [
    ['content_disposition', 'filename'],
    ['content_type', 'name'],
  ] as const) {
    const ct = sHeader(part, header)?.ContentType as
      | { attributes?: Array<{ name: string; value: string }> | null }
      | undefined;
    const found = ct?.attributes?.find((x) => x.name.toLowerCase() === param);
    if (found) return found.value;
  }
  return null;
}

function sJoined(msg: SMessage, ids: number[], kind: 'Text' | 'Html'): string | null {
  const texts = ids.map((i) => msg.parts[i]?.body[kind]).filter((t): t is string => typeof t === 'string');
  return texts.length === 0 ? null : squash(texts.join('\n'));
}

/**
 * Our name for comparison with the declared names: the name Mailroom gives an unnamed embedded message
 * (`<Subject>.eml`, by policy) counts as no name unless the expectation declares that very name.
 */
function declaredName(a: ParsedMessage['attachments'][number], parts: SPart[]): string | null {
  const synthesized = a.contentType.startsWith('message/rfc822') && a.filename?.endsWith('.eml');
  return synthesized && !parts.some((p) => sFilename(p) === a.filename) ? null : a.filename;
}

function compareStalwart(tally: Tally, id: string, parsed: ParsedMessage, msg: SMessage): void {
  const top = msg.parts[0]!;
  const subject = sHeader(top, 'subject')?.Text;
  count(tally, 'subject', (parsed.subject ?? null) === (typeof subject === 'string' ? subject : null), id);
  const from = sAddresses(sHeader(top, 'from'))[0] ?? null;
  count(tally, 'from', (parsed.from?.address.toLowerCase() || null) === from, id);
  const to = sAddresses(sHeader(top, 'to'));
  count(
    tally,
    'to',
    JSON.stringify(parsed.to.map((a) => a.address.toLowerCase())) === JSON.stringify(to),
    id,
  );
  count(tally, 'text', squash(parsed.text) === sJoined(msg, msg.text_body, 'Text'), id);
  count(tally, 'html', squash(parsed.html) === sJoined(msg, msg.html_body, 'Html'), id);
  const parts = msg.attachments.map((i) => msg.parts[i]!).filter(Boolean);
  const names = (list: Array<string | null>): string => JSON.stringify(list.map((n) => n ?? '').sort());
  count(
    tally,
    'attachments',
    parts.length === parsed.attachments.length &&
      names(parts.map(sFilename)) === names(parsed.attachments.map((a) => declaredName(a, parts))),
    id,
  );
  const sizes = parts
    .map((p) => (p.body.Binary ?? p.body.InlineBinary) as number[] | undefined)
    .filter((b): b is number[] => Array.isArray(b))
    .map((b) => b.length);
  if (sizes.length > 0) {
    const ours = parsed.attachments.map((a) => a.size);
    count(
      tally,
      'attachment sizes',
      sizes.every((s) => ours.includes(s)),
      id,
    );
  }
}

async function stalwart(): Promise<void> {
  const base = join(root, 'stalwart-mail-parser/resources/eml');
  if (!existsSync(base)) {
    results['stalwart-mail-parser'] = { absent: base };
    return;
  }
  const tally: Tally = {};
  for (const folder of readdirSync(base).sort()) {
    const dir = join(base, folder);
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.eml'))
      .sort()) {
      const raw = readFileSync(join(dir, file));
      const stem = join(dir, file.slice(0, -4));
      for (const [suffix, input] of [
        ['.json', raw],
        ['.crlf.json', Buffer.from(raw.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1')],
      ] as const) {
        if (!existsSync(stem + suffix)) continue;
        const msg = JSON.parse(readFileSync(stem + suffix, 'utf8')) as SMessage;
        compareStalwart(tally, `${folder}/${file}${suffix}`, await parseMessage(input), msg);
      }
    }
  }
  results['stalwart-mail-parser'] = tally;
}

// ---- james-mime4j

/** Decoded leaf files named in a *_decoded.xml, with whether each sits inside an embedded message. */
function jamesParts(xml: string): Array<{ name: string; embedded: boolean }> {
  const out: Array<{ name: string; embedded: boolean }> = [];
  let depth = 0;
  const token = /<message>|<\/message>|<(?:text|binary)-body name="([^"]+)"\/>/g;
  for (const m of xml.matchAll(token)) {
    if (m[0] === '<message>') depth++;
    else if (m[0] === '</message>') depth--;
    else out.push({ name: m[1]!, embedded: depth > 1 });
  }
  return out;
}

function decodedText(bytes: Buffer): string {
  const utf8 = bytes.toString('utf8');
  return utf8.includes('\uFFFD') ? bytes.toString('latin1') : utf8;
}

async function james(): Promise<void> {
  const base = join(root, 'james-mime4j/core/src/test/resources');
  if (!existsSync(base)) {
    results['james-mime4j'] = { absent: base };
    return;
  }
  const tally: Tally = {};
  for (const folder of ['testmsgs', 'mimetools-testmsgs']) {
    const dir = join(base, folder);
    for (const file of readdirSync(dir)
      .filter((f) => f.endsWith('.msg'))
      .sort()) {
      const xmlFile = join(dir, `${file.slice(0, -4)}_decoded.xml`);
      if (!existsSync(xmlFile)) continue;
      const leaves = jamesParts(readFileSync(xmlFile, 'latin1')).filter((p) => !p.embedded);
      if (leaves.length === 0) continue;
      const parsed = await parseMessage(readFileSync(join(dir, file)));
      const hashes = new Set(parsed.attachments.map((a) => a.sha256));
      const body = `${squash(parsed.text) ?? ''} ${squash(parsed.html) ?? ''}`;
      const bins = leaves.filter((p) => p.name.endsWith('.bin'));
      const txts = leaves.filter((p) => p.name.endsWith('.txt'));
      const id = `${folder}/${file}`;
      if (bins.length > 0)
        count(
          tally,
          'binary parts',
          bins.every((p) => hashes.has(sha256(readFileSync(join(dir, p.name))))),
          id,
        );
      if (txts.length > 0)
        count(
          tally,
          'text parts',
          txts.every((p) => {
            const bytes = readFileSync(join(dir, p.name));
            const text = squash(decodedText(bytes));
            return hashes.has(sha256(bytes)) || text === null || body.includes(text);
          }),
          id,
        );
    }
  }
  results['james-mime4j'] = tally;
}

// ---- mimekit

interface MkNode {
  mimeType: string;
  beginOffset: number;
  endOffset: number;
  children?: MkNode[];
  body?: MkNode;
}

function mkLeafTypes(node: MkNode, out: string[]): void {
  if (node.mimeType.startsWith('multipart/') && node.children) {
    for (const child of node.children) mkLeafTypes(child, out);
  } else out.push(node.mimeType.toLowerCase());
}

function summaryEntries(text: string): Array<{ subject: string | null; from: string | null }> {
  return text
    .split(/\n(?=From - )/)
    .filter((b) => b.startsWith('From - '))
    .map((block) => {
      const line = (k: string): string | null =>
        block
          .split('\n')
          .find((l) => l.startsWith(`${k}: `))
          ?.slice(k.length + 2) ?? null;
      const from = line('From');
      const address = from?.match(/<([^>]*)>/)?.[1] ?? from;
      return { subject: line('Subject'), from: address?.trim().toLowerCase() ?? null };
    });
}

const nonText = (t: string): boolean => t !== 'text/plain' && t !== 'text/html';

async function mimekit(): Promise<void> {
  const dir = join(root, 'mimekit/UnitTests/TestData/mbox');
  if (!existsSync(dir)) {
    results.mimekit = { absent: dir };
    return;
  }
  const tally: Tally = {};
  for (const name of ['content-length', 'issue1189']) {
    const mbox = readFileSync(join(dir, `${name}.mbox.txt`));
    const offsets = JSON.parse(readFileSync(join(dir, `${name}.unix-offsets.json`), 'utf8')) as MkNode[];
    const summary = summaryEntries(readFileSync(join(dir, `${name}-summary.txt`), 'latin1'));
    for (const [i, entry] of offsets.entries()) {
      const parsed = await parseMessage(mbox.subarray(entry.beginOffset, entry.endOffset));
      const id = `${name}#${i}`;
      const expected = summary[i];
      if (expected) {
        count(tally, 'subject', (parsed.subject ?? null) === expected.subject, id);
        count(tally, 'from', (parsed.from?.address.toLowerCase() ?? null) === expected.from, id);
      }
      const types: string[] = [];
      if (entry.body) mkLeafTypes(entry.body, types);
      const ours = parsed.attachments.map((a) => a.contentType.split(';')[0]!.trim()).filter(nonText);
      count(
        tally,
        'non-text parts',
        JSON.stringify(types.filter(nonText).sort()) === JSON.stringify(ours.sort()),
        id,
      );
    }
  }
  results.mimekit = tally;
}

// ---- report

function spamassassin(): void {
  const file = join(root, 'apache-spamassassin/t/mimeparse.t');
  results['apache-spamassassin'] = existsSync(file)
    ? { absent: `${file} present but not read by this bench yet` }
    : { absent: `${file} (part hashes) not in this copy` };
}

await stalwart();
await james();
await mimekit();
spamassassin();

const rows: string[] = [];
const pad = (s: string, n: number): string => s.padEnd(n);
rows.push(`${pad('corpus', 22)}${pad('field', 18)}agreed/total`);
for (const [corpus, tally] of Object.entries(results)) {
  if ('absent' in tally) {
    rows.push(`${pad(corpus, 22)}${pad('-', 18)}absent: ${String(tally.absent)}`);
    continue;
  }
  for (const [field, t] of Object.entries(tally)) {
    const pct = t.total ? ((100 * t.agreed) / t.total).toFixed(1) : '-';
    rows.push(`${pad(corpus, 22)}${pad(field, 18)}${t.agreed}/${t.total} (${pct}%)`);
  }
}
console.log(rows.join('\n'));
const json = Object.fromEntries(
  Object.entries(results).map(([c, t]) => [
    c,
    'absent' in t
      ? t
      : Object.fromEntries(Object.entries(t).map(([f, v]) => [f, { agreed: v.agreed, total: v.total }])),
  ]),
);
console.log(JSON.stringify(json));
if (values.json) writeFileSync(values.json, `${JSON.stringify(json, null, 2)}\n`);
if (values.misses) {
  const [corpus, field] = values.misses.split(':');
  const tally = results[corpus ?? ''];
  if (tally && !('absent' in tally)) console.log((tally[field ?? '']?.misses ?? []).join('\n'));
}
