import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { Attachment, ParsedMessage } from '../message/index.ts';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Parsed messages up to this many bytes of JSON are stored as a plain string attribute. */
export const PARSED_INLINE_MAX_BYTES = 32 * 1024;
/**
 * Largest gzip-compressed parse kept. A DynamoDB item holds at most 400 KB, names and keys included; the
 * rest of the item is well under the 50 KB left.
 */
export const PARSED_MAX_STORED_BYTES = 350_000;
/** Most characters of one header value, address list or similar kept by the truncation steps. */
const MAX_LIST = 200;

/** How a parse is kept: JSON text, or gzip of the JSON text. */
export type EncodedParsed = { json: string } | { gzip: Buffer };

const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * Steps that make a parse smaller, mildest first; each applies on top of the previous ones. The note of
 * each step goes into `problems` when the step was needed.
 */
const shrinkSteps: Array<{ note: string; apply: (p: ParsedMessage) => ParsedMessage }> = [
  { note: 'html dropped', apply: (p) => ({ ...p, html: null }) },
  {
    note: 'text cut to 100000 characters',
    apply: (p) => ({
      ...p,
      text: p.text === null ? null : cut(p.text, 100_000),
      reply: {
        text: cut(p.reply.text, 100_000),
        signature: p.reply.signature && cut(p.reply.signature, 10_000),
      },
    }),
  },
  {
    note: `headers, addresses, references and attachments cut to ${MAX_LIST} each`,
    apply: (p) => ({
      ...p,
      subject: p.subject === null ? null : cut(p.subject, 2000),
      headers: p.headers.slice(0, MAX_LIST).map((h) => ({ key: cut(h.key, 200), value: cut(h.value, 2000) })),
      to: p.to.slice(0, MAX_LIST),
      cc: p.cc.slice(0, MAX_LIST),
      replyTo: p.replyTo.slice(0, MAX_LIST),
      references:
        p.references.length > MAX_LIST
          ? [p.references[0]!, ...p.references.slice(-(MAX_LIST - 1))]
          : p.references,
      attachments: p.attachments.slice(0, MAX_LIST),
      problems: p.problems.slice(0, MAX_LIST).map((x) => cut(x, 2000)),
    }),
  },
  {
    note: 'text cut to 10000 characters',
    apply: (p) => ({
      ...p,
      text: p.text === null ? null : cut(p.text, 10_000),
      reply: {
        text: cut(p.reply.text, 10_000),
        signature: p.reply.signature && cut(p.reply.signature, 1000),
      },
    }),
  },
  {
    note: 'text, headers, addresses and attachments dropped',
    apply: (p) => ({
      ...p,
      from: p.from && { address: cut(p.from.address, 1000), name: cut(p.from.name, 1000) },
      messageId: p.messageId && cut(p.messageId, 1000),
      inReplyTo: p.inReplyTo && cut(p.inReplyTo, 1000),
      text: null,
      reply: { text: '', signature: null },
      headers: [],
      to: [],
      cc: [],
      replyTo: [],
      references: p.references.slice(0, 1).map((r) => cut(r, 1000)),
      attachments: [],
      problems: p.problems.slice(0, 20),
    }),
  },
];

/**
 * Encodes a parse for one DynamoDB item: JSON text when small ({@link PARSED_INLINE_MAX_BYTES}), else gzip.
 * When even the gzip is larger than {@link PARSED_MAX_STORED_BYTES}, the parse is made smaller step by
 * step (html dropped, then text cut, then long lists cut, …) until it fits, and a `problems` entry says
 * what was cut: the record is kept, never refused. The raw message, kept whole in the raw store, still
 * has everything.
 */
export async function encodeParsed(
  parsed: ParsedMessage,
): Promise<{ encoded: EncodedParsed; truncated: boolean }> {
  const json = JSON.stringify(parsed);
  if (Buffer.byteLength(json, 'utf8') <= PARSED_INLINE_MAX_BYTES)
    return { encoded: { json }, truncated: false };
  const whole = await gzipAsync(json);
  if (whole.length <= PARSED_MAX_STORED_BYTES) return { encoded: { gzip: whole }, truncated: false };
  let smaller = parsed;
  const notes: string[] = [];
  for (const step of shrinkSteps) {
    smaller = step.apply(smaller);
    notes.push(step.note);
    const problem = `stored record truncated to fit a DynamoDB item (${whole.length} bytes compressed): ${notes.join('; ')}`;
    const gz = await gzipAsync(JSON.stringify({ ...smaller, problems: [...smaller.problems, problem] }));
    if (gz.length <= PARSED_MAX_STORED_BYTES) return { encoded: { gzip: gz }, truncated: true };
  }
  // The last step leaves only short, bounded fields: unreachable unless the limits above change.
  throw new RangeError('parsed message does not fit a DynamoDB item even when truncated');
}

/** Reads what {@link encodeParsed} wrote; damaged data reads as null rather than failing a listing. */
export async function decodeParsed(stored: EncodedParsed): Promise<ParsedMessage | null> {
  try {
    const json =
      'json' in stored
        ? stored.json
        : (await gunzipAsync(stored.gzip, { maxOutputLength: 512 * 1024 * 1024 })).toString('utf8');
    return withAttachmentFields(JSON.parse(json) as ParsedMessage);
  } catch {
    return null;
  }
}

/** Records written before attachments had `url`, `stored` and `related` read with their defaults. */
function withAttachmentFields(parsed: ParsedMessage): ParsedMessage {
  if (!Array.isArray(parsed.attachments)) return parsed;
  parsed.attachments = parsed.attachments.map((a: Partial<Attachment>) => ({
    ...a,
    url: a.url ?? null,
    stored: a.stored ?? false,
    related: a.related ?? false,
  })) as Attachment[];
  return parsed;
}
