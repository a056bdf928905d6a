import type { EmailAddress } from 'mailparser';
import { parseAddressHeader } from 'mailparser';
import type { ParseOptions } from './attachment-sink.ts';
import { bodyParserInput, byteLength } from './body-input.ts';
import { type BodyParse, parseBody } from './body-parse.ts';
import { isKnownCharset } from './charset.ts';
import { type CharsetContext, FallbackReport } from './charset-decide.ts';
import { decodeEncodedWords, reencodeWordsAsUtf8 } from './encoded-words.ts';
import { type RawHeaderField, readHeaderBlock } from './header-block.ts';
import { extractLegacyAttachments } from './legacy-attachments.ts';
import { parseMessageDate } from './message-date.ts';
import { parseMessageId, parseMessageIds } from './message-ids.ts';
import { effectiveLimits, type MimeScan, scanMimeLimits } from './mime-limits.ts';
import { markRelated } from './related-parts.ts';
import { extractReply } from './reply-text.ts';
import { threadId } from './thread-id.ts';
import type { Address, HeaderField, ParsedMessage, ParseLimits } from './types.ts';

/**
 * Wall-clock budget for the MIME parser. With the structural limits in place a 40 MB message parses in
 * well under a second; this is the backstop for anything they miss.
 */
export const PARSE_TIME_BUDGET_MS = 5000;

/**
 * The budget grows by this much per MiB of input: the parser is linear, and while it streams attachments
 * into a store it also waits for writes and fsyncs, which a loaded machine or a slow disk makes slower.
 */
const PARSE_TIME_PER_MIB_MS = 1000;

/** The wall-clock budget for one body of `bytes` bytes. */
export function parseTimeBudgetMs(bytes: number): number {
  return PARSE_TIME_BUDGET_MS + Math.ceil(bytes / (1024 * 1024)) * PARSE_TIME_PER_MIB_MS;
}

const MAX_PROBLEMS = 50;

/** A parse that found nothing: the shape returned when even the fallback fails. */
function emptyMessage(problems: string[]): ParsedMessage {
  const base = {
    messageId: null,
    date: null,
    subject: null,
    from: null,
    to: [],
    cc: [],
    replyTo: [],
    inReplyTo: null,
    references: [],
    text: null,
    html: null,
    attachments: [],
    headers: [],
    reply: { text: '', signature: null },
    problems,
  };
  return { ...base, thread: { id: threadId(base) } };
}

function flattenAddresses(list: EmailAddress[], out: Address[]): void {
  for (const entry of list) {
    if (entry.group) flattenAddresses(entry.group, out);
    else out.push({ address: entry.address ?? '', name: entry.name ?? '' });
  }
}

function addressesOf(fields: RawHeaderField[], key: string, charsets?: CharsetContext): Address[] {
  const values = fields.filter((f) => f.key === key).map((f) => reencodeWordsAsUtf8(f.raw, charsets));
  if (values.length === 0) return [];
  const out: Address[] = [];
  try {
    flattenAddresses(parseAddressHeader(values, { flatten: true }).value, out);
  } catch {
    // addressparser is tolerant; nothing to add if it still fails
  }
  return out;
}

const MAILBOX = /^[^\s@<>()",;:]+@[^\s@<>()",;:]+$|^"[^"]*"@[^\s@<>()",;:]+$/;

/** Whether an address looks like a usable mailbox: local@domain, no spaces or brackets. */
function isValidMailbox(address: string): boolean {
  return address.length <= 320 && MAILBOX.test(address);
}

function quoteForProblem(value: string): string {
  const v = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return JSON.stringify(v);
}

function headerProblems(
  scan: MimeScan,
  fields: RawHeaderField[],
  invalidLines: number,
  problems: string[],
): void {
  if (!scan.headerTerminated && (scan.cut === null || scan.cut.offset >= scan.bodyStart)) {
    problems.push('header-unterminated: no blank line ends the header section; the message has no body');
  }
  if (invalidLines > 0) {
    problems.push(`header-invalid-line: ${invalidLines} line(s) in the header section are not header fields`);
  }
  for (const key of ['from', 'date', 'subject', 'message-id']) {
    const count = fields.filter((f) => f.key === key).length;
    if (count > 1) problems.push(`header-duplicated: ${count} ${key} fields; the first is used`);
  }
}

function lineProblems(scan: MimeScan, problems: string[]): void {
  if (scan.lfLines > 0 && scan.crlfLines > 0) {
    problems.push(
      `bare-lf: ${scan.lfLines} of ${scan.lfLines + scan.crlfLines} lines end in LF without CR (mixed line endings)`,
    );
  } else if (scan.lfLines > 0) {
    problems.push(`bare-lf: all ${scan.lfLines} lines end in LF without CR`);
  }
  if (scan.nulBytes > 0) {
    problems.push(
      `nul-bytes: the message contains ${scan.nulBytes >= 10_000 ? 'at least 10000' : scan.nulBytes} NUL byte(s)`,
    );
  }
  if (scan.multipartsWithoutBoundary > 0) {
    problems.push(
      `mime-boundary-missing: ${scan.multipartsWithoutBoundary} multipart part(s) declare no usable boundary; their content is read as one part`,
    );
  }
  if (scan.unterminatedMultiparts > 0) {
    problems.push(
      `mime-unterminated: ${scan.unterminatedMultiparts} multipart section(s) have no closing boundary (the message may be truncated)`,
    );
  }
  for (const charset of scan.charsets) {
    if (!isKnownCharset(charset))
      problems.push(
        `charset-unknown: a text part declares charset ${quoteForProblem(charset)}; decoded as UTF-8 when valid, else by the charset fallback`,
      );
  }
}

/**
 * Parses one raw message into the normalized {@link ParsedMessage}. Never throws and never rejects:
 * malformed or hostile input yields a best-effort result whose `problems` say what was wrong
 * (`code: detail`, e.g. `mime-depth-exceeded: …`). Before mailparser sees the bytes, a linear pre-scan
 * ({@link scanMimeLimits}) checks the limits; over a limit, only a bounded prefix (and a bounded header
 * block) is parsed, so no input costs more than about a second or a few hundred MB. Attachments are
 * hashed while streaming, never buffered.
 *
 * Conventions: `messageId`, `inReplyTo`, `references` and attachment `contentId` keep their angle
 * brackets (`<id@host>`), added when the header omitted them. `text` is null when the message has no
 * text/plain part (HTML is not converted into it); `html` is the original HTML or null. `headers` lists
 * every top-level field in order (within the limits), names lower-cased, values unfolded with RFC 2047
 * encoded words and raw UTF-8 decoded.
 *
 * @param raw - The message bytes as received.
 * @param limits - Parse limits; missing fields take the defaults (see `DEFAULT_PARSE_LIMITS`).
 * @param options - `attachments`: a sink each attachment's decoded content is streamed into during the
 *   parse (`stored` says which were kept; `url` stays null: the caller knows where they are served).
 */
export async function parseMessage(
  raw: Buffer,
  limits?: ParseLimits,
  options?: ParseOptions,
): Promise<ParsedMessage> {
  try {
    return await parseUnsafe(Buffer.isBuffer(raw) ? raw : Buffer.from(raw ?? ''), limits, options);
  } catch (err) {
    return emptyMessage([`parse-failed: ${err instanceof Error ? err.message : String(err)}`]);
  }
}

async function parseUnsafe(
  raw: Buffer,
  limits: ParseLimits | undefined,
  options: ParseOptions | undefined,
): Promise<ParsedMessage> {
  if (raw.length === 0) return emptyMessage(['empty-message: the message has no content']);
  const lim = effectiveLimits(limits);
  const problems: string[] = [];
  const scan = scanMimeLimits(raw, lim);
  const headerEnd = Math.min(
    scan.headerTerminated ? scan.bodyStart : raw.length,
    scan.cut && scan.cut.offset < scan.bodyStart ? scan.cut.offset : raw.length,
  );
  const charsets = { charsets: scan.charsets, report: new FallbackReport() };
  const wordCharsets = { charsets: scan.charsets };
  const block = readHeaderBlock(raw, 0, headerEnd, lim.maxHeaders, lim.maxHeaderBytes, charsets);
  const fields = block.fields;
  problems.push(...scan.problems);
  headerProblems(scan, fields, block.invalidLines, problems);

  const headers: HeaderField[] = [];
  const unknownHeaderCharsets = new Set<string>();
  const decoded = new Map<string, string>();
  for (const field of fields) {
    const { text, unknownCharsets } = decodeEncodedWords(field.raw, charsets, field.key);
    for (const c of unknownCharsets) unknownHeaderCharsets.add(c);
    headers.push({ key: field.key, value: text });
    if (!decoded.has(field.key)) decoded.set(field.key, text);
  }
  const first = (key: string): RawHeaderField | undefined => fields.find((f) => f.key === key);

  // From
  const fromList = addressesOf(fields, 'from', wordCharsets);
  const fromField = first('from');
  let from: Address | null = null;
  if (!fromField || fromField.raw === '') {
    problems.push('missing-from: the message has no From header');
  } else {
    from = fromList.find((a) => isValidMailbox(a.address)) ?? fromList[0] ?? null;
    if (!from || !isValidMailbox(from.address)) {
      problems.push(`invalid-from: the From header ${quoteForProblem(fromField.raw)} has no valid address`);
    }
    if (from && !from.address && !from.name) from = null;
  }

  // Date
  let date: string | null = null;
  const dateField = first('date');
  if (!dateField) {
    problems.push('missing-date: the message has no Date header');
  } else {
    const parsed = parseMessageDate(dateField.raw);
    if (parsed) date = parsed.toISOString();
    else problems.push(`invalid-date: the Date header ${quoteForProblem(dateField.raw)} could not be parsed`);
  }

  // Ids
  const idField = first('message-id');
  const messageId = idField ? parseMessageId(idField.raw) : null;
  if (!messageId) problems.push('missing-message-id: the message has no Message-ID');
  const replyField = first('in-reply-to');
  const inReplyTo = replyField ? (parseMessageIds(replyField.raw)[0] ?? null) : null;
  const references = fields.filter((f) => f.key === 'references').flatMap((f) => parseMessageIds(f.raw));

  for (const c of unknownHeaderCharsets) {
    problems.push(
      `charset-unknown: an encoded word in the header uses charset ${quoteForProblem(c)}; decoded as UTF-8 when valid, else by the charset fallback`,
    );
  }
  lineProblems(scan, problems);

  // Body
  const input = bodyParserInput(raw, scan, fields);
  const inputBytes = byteLength(input);
  const body: BodyParse = await parseBody(input, {
    maxHeadSize: Math.max(lim.maxHeaderBytes, 1024 * 1024) * 64 + 65_536,
    maxChildNodes: lim.maxParts + 16,
    budgetMs: parseTimeBudgetMs(inputBytes),
    ...(options?.attachments ? { attachments: options.attachments } : {}),
    charsets,
  });
  problems.push(...charsets.report.problems());
  if (body.timedOut) {
    problems.push(
      `parse-timeout: MIME parsing did not finish within ${parseTimeBudgetMs(inputBytes)} ms; body and attachments may be incomplete`,
    );
  }
  if (body.error) problems.push(`mime-parse-error: ${body.error}; body and attachments may be incomplete`);
  problems.push(...body.problems);
  const topType = first('content-type')?.raw ?? null;
  problems.push(...(await extractLegacyAttachments(body, body.legacy, options?.attachments, topType)));

  const html = body.html !== null && body.html !== '' ? body.html : null;
  const text = body.text === null || (html !== null && body.text.trim() === '') ? null : body.text;
  markRelated(body.attachments, html);

  const partial = {
    messageId,
    date,
    subject: decoded.get('subject') ?? null,
    from,
    to: addressesOf(fields, 'to', wordCharsets).filter((a) => a.address),
    cc: addressesOf(fields, 'cc', wordCharsets).filter((a) => a.address),
    replyTo: addressesOf(fields, 'reply-to', wordCharsets).filter((a) => a.address),
    inReplyTo,
    references,
    text,
    html,
    attachments: body.attachments,
    headers,
  };
  const reply = extractReply(text, html);
  problems.push(...reply.problems);
  if (problems.length > MAX_PROBLEMS) {
    const extra = problems.length - MAX_PROBLEMS + 1;
    problems.length = MAX_PROBLEMS - 1;
    problems.push(`too-many-problems: ${extra} more problem(s) not listed`);
  }
  return {
    ...partial,
    reply: { text: reply.text, signature: reply.signature },
    thread: { id: threadId(partial) },
    problems,
  };
}
