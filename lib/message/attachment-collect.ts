import { createHash } from 'node:crypto';
import type { AttachmentStream, StructuredHeader } from 'mailparser';
import type { AttachmentExtraction, AttachmentInfo, AttachmentSinkUpload } from './attachment-sink.ts';
import type { Attachment } from './types.ts';

/** One attachment as the body parse collects it: complete once its content has ended (and was committed). */
export interface AttachmentSlot {
  entry: Attachment;
  done: boolean;
  /** The upload in progress, aborted when the parse stops early. */
  upload: AttachmentSinkUpload | null;
}

function declaredType(attachment: AttachmentStream): string {
  const header = attachment.headers.get('content-type') as StructuredHeader | undefined;
  const value = header && typeof header === 'object' && 'value' in header ? header.value : '';
  return (
    typeof value === 'string' && value.trim() ? value : attachment.contentType || 'application/octet-stream'
  )
    .trim()
    .toLowerCase();
}

/** The description of an attachment as its part begins (size and hash come when its content has ended). */
export function newAttachmentEntry(data: AttachmentStream): Attachment {
  return {
    filename: data.filename ?? null,
    contentType: declaredType(data),
    size: 0,
    sha256: '',
    contentId: data.contentId ?? null,
    disposition: data.contentDisposition ? data.contentDisposition.toLowerCase() : null,
    url: null,
    stored: false,
    related: false,
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Whether the extraction keeps this attachment's content. */
function wanted(extraction: AttachmentExtraction | undefined, info: AttachmentInfo): boolean {
  if (!extraction) return false;
  try {
    return extraction.keep ? extraction.keep(info) : true;
  } catch {
    return false;
  }
}

/**
 * Reads one attachment's decoded content once: hashes it and, when the extraction keeps it, writes each
 * chunk to an upload, waiting for the upload before reading on (the parser waits in turn). Over `maxSize`
 * or on a failed write the upload is aborted and the attachment is only described (`stored: false`, a
 * problem saying why). Never rejects; the slot is `done` once the content ended (and was committed).
 */
export async function collectAttachment(
  data: AttachmentStream,
  slot: AttachmentSlot,
  index: number,
  extraction: AttachmentExtraction | undefined,
  problems: string[],
): Promise<void> {
  const entry = slot.entry;
  const hash = createHash('sha256');
  let size = 0;
  const maxSize = extraction?.maxSize ?? Number.POSITIVE_INFINITY;
  const info: AttachmentInfo = {
    index,
    filename: entry.filename,
    contentType: entry.contentType,
    contentId: entry.contentId,
    disposition: entry.disposition,
  };
  // `slot.upload` is the upload in progress; the body parse clears it when it aborts the upload itself.
  const drop = async (problem: string | null): Promise<void> => {
    const current = slot.upload;
    slot.upload = null;
    if (problem) problems.push(problem);
    await current?.abort().catch(() => {});
  };
  try {
    if (extraction && wanted(extraction, info)) slot.upload = extraction.sink.begin();
  } catch (err) {
    await drop(`attachment-not-stored: attachment ${index} could not be stored: ${messageOf(err)}`);
  }
  try {
    for await (const chunk of data.content as AsyncIterable<Buffer | string>) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'binary') : chunk;
      size += bytes.length;
      hash.update(bytes);
      const upload = slot.upload;
      if (!upload) continue;
      if (size > maxSize) {
        await drop(null); // described, not kept: the trace and `stored: false` say so
        continue;
      }
      try {
        await upload.write(bytes);
      } catch (err) {
        await drop(`attachment-not-stored: attachment ${index} could not be stored: ${messageOf(err)}`);
      }
    }
  } catch (err) {
    problems.push(`attachment-stream-failed: attachment ${index}: ${messageOf(err)}`);
    await drop(null);
  }
  entry.size = size;
  entry.sha256 = hash.digest('hex');
  const committing = slot.upload;
  if (committing) {
    try {
      await committing.commit(entry.sha256);
      entry.stored = true;
    } catch (err) {
      await drop(`attachment-not-stored: attachment ${index} could not be stored: ${messageOf(err)}`);
    }
    slot.upload = null;
  }
  slot.done = true;
}
