/**
 * Attachments in legacy encodings, found after the MIME parse: uuencoded blocks inside the text, parts in
 * `x-uuencode` transfer encoding, BinHex 4.0 parts and TNEF (`winmail.dat`) parts. The part they come in
 * stays listed (`container: true`); each file in it is added after the MIME attachments with
 * `source: { part, encoding }`, stored through the same sink as the others. Signature parts are marked
 * (`signature: true`) and encrypted wrappers reported (`encrypted: …`).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AttachmentStream } from 'mailparser';
import type { AttachmentExtraction, AttachmentInfo } from './attachment-sink.ts';
import { decodeBinHex } from './binhex.ts';
import { contentTypeOf } from './legacy-types.ts';
import { readTnef } from './tnef.ts';
import type { Attachment, AttachmentSourceEncoding } from './types.ts';
import { scanUuBlocks, withoutBlocks } from './uuencode.ts';

/** Bytes of container parts kept in memory for decoding, per message. */
export const MAX_CONTAINER_BYTES = 32 * 1024 * 1024;
/** Bytes a BinHex part's run-length encoding may expand to (8 times the part, at most this). */
export const MAX_BINHEX_EXPANDED = 64 * 1024 * 1024;
/** Files added from legacy encodings per message at most. */
export const MAX_LEGACY_FILES = 200;

/** A container part's content, captured while mailparser streams it. */
export interface ContainerCapture {
  entry: Attachment;
  encoding: AttachmentSourceEncoding;
  chunks: Buffer[];
  size: number;
  /** More than the capture budget: not decoded. */
  over: boolean;
}

/** What the body parse keeps for the legacy step. */
export interface LegacyCaptures {
  containers: ContainerCapture[];
  budget: number;
}

export function newLegacyCaptures(): LegacyCaptures {
  return { containers: [], budget: MAX_CONTAINER_BYTES };
}

function headerText(data: AttachmentStream, key: string): string {
  const value = data.headers.get(key);
  return typeof value === 'string' ? value.trim().toLowerCase() : '';
}

/** Which legacy container a part is, from its type, transfer encoding and name; null for none. */
function containerKind(data: AttachmentStream, entry: Attachment): AttachmentSourceEncoding | null {
  const type = entry.contentType;
  const name = (entry.filename ?? '').toLowerCase();
  if (type === 'application/ms-tnef' || type === 'application/vnd.ms-tnef' || name === 'winmail.dat') {
    return 'tnef';
  }
  if (type === 'application/mac-binhex40' || type === 'application/mac-binhex') return 'binhex';
  const cte = headerText(data, 'content-transfer-encoding');
  if (cte === 'x-uuencode' || cte === 'uuencode' || cte === 'x-uue') return 'uuencode';
  return null;
}

/**
 * When the part is a legacy container, replaces its content stream by one that also keeps the bytes (up
 * to the message's capture budget) for {@link extractLegacyAttachments}.
 */
export function captureContainer(data: AttachmentStream, entry: Attachment, captures: LegacyCaptures): void {
  const encoding = containerKind(data, entry);
  if (!encoding) return;
  const capture: ContainerCapture = { entry, encoding, chunks: [], size: 0, over: false };
  captures.containers.push(capture);
  const source = data.content as AsyncIterable<Buffer | string>;
  async function* tapped(): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'binary') : chunk;
      if (!capture.over) {
        if (bytes.length > captures.budget) {
          capture.over = true;
          capture.chunks = [];
        } else {
          captures.budget -= bytes.length;
          capture.chunks.push(bytes);
          capture.size += bytes.length;
        }
      }
      yield bytes;
    }
  }
  data.content = Readable.from(tapped(), { objectMode: false });
}

/** One file found in a container or the text, before it is stored. */
interface Found {
  filename: string | null;
  contentType: string | null;
  data: Buffer;
  part: number | 'text';
  encoding: AttachmentSourceEncoding;
}

/** The text and attachments of a body parse, as the legacy step changes them. */
export interface LegacyTarget {
  text: string | null;
  attachments: Attachment[];
}

/**
 * Decodes what legacy encodings hold: uuencoded blocks of `target.text` (removed from it) and the captured
 * container parts (marked `container: true`); adds each file to `target.attachments`, streamed into the
 * extraction's sink like the others. Marks signature parts and reports encrypted wrappers. Returns the
 * problems; never throws.
 */
export async function extractLegacyAttachments(
  target: LegacyTarget,
  captures: LegacyCaptures,
  extraction: AttachmentExtraction | undefined,
  topContentType: string | null = null,
): Promise<string[]> {
  const problems: string[] = [];
  try {
    markSignaturesAndEncryption(target, topContentType, problems);
    const found: Found[] = [];
    if (target.text?.includes('begin')) {
      const scan = scanUuBlocks(target.text);
      problems.push(...scan.problems);
      for (const b of scan.blocks) found.push(fileOf(b.filename, null, b.data, 'text', 'uuencode'));
      if (scan.blocks.length > 0) target.text = withoutBlocks(target.text, scan.blocks);
    }
    for (const capture of captures.containers) {
      const part = target.attachments.indexOf(capture.entry);
      if (part < 0) continue; // its part did not end
      capture.entry.container = true;
      if (capture.over) {
        problems.push(
          `legacy-too-large: attachment ${part} (${capture.encoding}) is over the decoding budget`,
        );
        continue;
      }
      found.push(...decodeContainer(capture, part, problems));
      capture.chunks = [];
    }
    if (found.length > MAX_LEGACY_FILES) {
      problems.push(
        `legacy-too-many: ${found.length} files in legacy encodings; the first ${MAX_LEGACY_FILES} are listed`,
      );
      found.length = MAX_LEGACY_FILES;
    }
    for (const file of found)
      target.attachments.push(await described(file, target.attachments.length, extraction, problems));
  } catch (err) {
    problems.push(`legacy-failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  return problems;
}

function fileOf(
  filename: string | null,
  contentType: string | null,
  data: Buffer,
  part: number | 'text',
  encoding: AttachmentSourceEncoding,
): Found {
  return { filename, contentType, data, part, encoding };
}

function decodeContainer(capture: ContainerCapture, part: number, problems: string[]): Found[] {
  const bytes = Buffer.concat(capture.chunks);
  if (capture.encoding === 'tnef') {
    const tnef = readTnef(bytes);
    problems.push(...tnef.problems.map((p) => `${p} (attachment ${part})`));
    return tnef.attachments
      .filter((a) => a.data !== null)
      .map((a) => fileOf(a.filename, a.contentType, a.data!, part, 'tnef'));
  }
  const text = bytes.toString('latin1');
  if (capture.encoding === 'binhex') {
    const hqx = decodeBinHex(text, Math.min(Math.max(bytes.length * 8, 1 << 20), MAX_BINHEX_EXPANDED));
    problems.push(...hqx.problems.map((p) => `${p} (attachment ${part})`));
    return hqx.data ? [fileOf(hqx.filename || capture.entry.filename, null, hqx.data, part, 'binhex')] : [];
  }
  const scan = scanUuBlocks(text);
  problems.push(...scan.problems.map((p) => `${p} (attachment ${part})`));
  if (scan.blocks.length === 0 && scan.problems.length === 0) {
    problems.push(`uuencode-invalid: attachment ${part} is declared uuencoded but has no "begin" line`);
  }
  const type = capture.entry.contentType === 'application/octet-stream' ? null : capture.entry.contentType;
  return scan.blocks.map((b) => fileOf(b.filename, type, b.data, part, 'uuencode'));
}

const SIGNATURE_TYPES = new Set([
  'application/pkcs7-signature',
  'application/x-pkcs7-signature',
  'application/pgp-signature',
]);
const ENCRYPTED_TYPES = new Set([
  'application/pkcs7-mime',
  'application/x-pkcs7-mime',
  'application/pgp-encrypted',
]);

/** The message's own type when it is an encrypted wrapper (a single-part one has no attachment entry). */
function encryptedTop(topContentType: string | null): string | null {
  const type = (topContentType ?? '').split(';')[0]!.trim().toLowerCase();
  return ENCRYPTED_TYPES.has(type) || type === 'multipart/encrypted' ? type : null;
}

function markSignaturesAndEncryption(
  target: LegacyTarget,
  topContentType: string | null,
  problems: string[],
): void {
  let wrapper = encryptedTop(topContentType);
  for (const a of target.attachments) {
    if (SIGNATURE_TYPES.has(a.contentType)) a.signature = true;
    else if (ENCRYPTED_TYPES.has(a.contentType)) wrapper ??= a.contentType;
  }
  if (wrapper) {
    problems.push(
      `encrypted: the message content is in an encrypted or enveloped wrapper (${wrapper}); it is not decrypted`,
    );
    return;
  }
  if (target.text?.includes('-----BEGIN PGP MESSAGE-----')) {
    problems.push('encrypted: the text holds an inline PGP message; it is not decrypted');
  }
}

/** The attachment entry of one found file; its bytes written to the sink when the extraction keeps it. */
async function described(
  file: Found,
  index: number,
  extraction: AttachmentExtraction | undefined,
  problems: string[],
): Promise<Attachment> {
  const filename = file.filename ? (file.filename.split(/[\\/]/).pop() ?? null) || null : null;
  const entry: Attachment = {
    filename,
    contentType: file.contentType ?? contentTypeOf(filename),
    size: file.data.length,
    sha256: createHash('sha256').update(file.data).digest('hex'),
    contentId: null,
    disposition: 'attachment',
    url: null,
    stored: false,
    related: false,
    source: { part: file.part, encoding: file.encoding },
  };
  const info: AttachmentInfo = {
    index,
    filename,
    contentType: entry.contentType,
    contentId: null,
    disposition: 'attachment',
  };
  if (
    !extraction ||
    !keeps(extraction, info) ||
    file.data.length > (extraction.maxSize ?? Number.POSITIVE_INFINITY)
  ) {
    return entry;
  }
  let upload: ReturnType<typeof extraction.sink.begin> | null = null;
  try {
    upload = extraction.sink.begin();
    for (let at = 0; at < file.data.length; at += 256 * 1024)
      await upload.write(file.data.subarray(at, at + 256 * 1024));
    await upload.commit(entry.sha256);
    entry.stored = true;
  } catch (err) {
    await upload?.abort().catch(() => {});
    problems.push(
      `attachment-not-stored: attachment ${index} could not be stored: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return entry;
}

function keeps(extraction: AttachmentExtraction, info: AttachmentInfo): boolean {
  try {
    return extraction.keep ? extraction.keep(info) : true;
  } catch {
    return false;
  }
}
