import { type AttachmentStream, MailParser, type MessageText } from 'mailparser';
import { type AttachmentSlot, collectAttachment, newAttachmentEntry } from './attachment-collect.ts';
import { applyTextAttachmentRule, nameEmbeddedMessage } from './attachment-policy.ts';
import type { AttachmentExtraction } from './attachment-sink.ts';
import { decideBodyCharsets } from './charset-body.ts';
import type { CharsetContext } from './charset-decide.ts';
import { captureContainer, type LegacyCaptures, newLegacyCaptures } from './legacy-attachments.ts';
import type { Attachment } from './types.ts';

/** Bytes of the raw message handed to the parser at a time (it asks for more when it is ready). */
const INPUT_SLICE_BYTES = 64 * 1024;

/** What mailparser made of the body, collected without buffering attachment content. */
export interface BodyParse {
  text: string | null;
  html: string | null;
  attachments: Attachment[];
  /** Why parsing stopped early (mailparser error), or null. */
  error: string | null;
  /** Whether the time budget ran out before mailparser finished. */
  timedOut: boolean;
  /** Attachments whose content could not be kept (`code: detail`). */
  problems: string[];
  /** Legacy container parts (TNEF, BinHex, uuencoded) captured for decoding. */
  legacy: LegacyCaptures;
}

/** Options for {@link parseBody}. */
export interface BodyParseOptions {
  /** Per-part header size mailparser accepts (its own limit; ours is applied before). */
  maxHeadSize: number;
  /** MIME nodes mailparser accepts (its own limit; ours is applied before). */
  maxChildNodes: number;
  /** Wall-clock budget; when it runs out the parser is destroyed and what was collected is returned. */
  budgetMs: number;
  /** Where attachment content goes while it is decoded. @default content not kept */
  attachments?: AttachmentExtraction;
  /** The message's charsets and fallback report: text parts are decoded by the charset decision. */
  charsets?: CharsetContext;
}

/**
 * Runs mailparser's streaming parser over `input` and collects text, HTML and attachment metadata
 * (size and SHA-256 of the decoded content, computed while streaming). Attachment content is not kept,
 * unless `options.attachments` gives a sink: then each attachment's decoded bytes are written to it as
 * they are decoded, the parser waiting for each write. Resolves, never rejects: a parser error or the time
 * budget running out is reported in the result, with whatever was collected until then (an upload in
 * progress is aborted).
 */
export function parseBody(input: readonly Buffer[], options: BodyParseOptions): Promise<BodyParse> {
  return new Promise<BodyParse>((resolve) => {
    const result: BodyParse = {
      text: null,
      html: null,
      attachments: [],
      error: null,
      timedOut: false,
      problems: [],
      legacy: newLegacyCaptures(),
    };
    const slots: AttachmentSlot[] = [];
    let settled = false;
    let parser: MailParser | null = null;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const slot of slots) {
        if (slot.done) result.attachments.push(slot.entry);
        else {
          void slot.upload?.abort().catch(() => {});
          slot.upload = null;
        }
      }
      resolve(result);
    };
    const timer = setTimeout(() => {
      if (settled) return;
      result.timedOut = true;
      try {
        parser?.destroy();
      } catch {
        // already gone
      }
      finish();
    }, options.budgetMs);
    try {
      parser = new MailParser({
        skipHtmlToText: true,
        skipTextToHtml: true,
        skipImageLinks: true,
        checksumAlgo: false,
        // Embedded messages stay attachments (message/rfc822): mailparser hangs on an inline one
        // that is empty, and a forwarded message is better handled as the attachment it is.
        ignoreEmbedded: true,
        maxHeadSize: options.maxHeadSize,
        maxChildNodes: options.maxChildNodes,
      });
      const p = parser;
      applyTextAttachmentRule(p); // the attachment policy (attachment-policy.ts)
      if (options.charsets) decideBodyCharsets(p, options.charsets);
      p.on('error', (err: unknown) => {
        result.error ??= err instanceof Error ? err.message : String(err);
        finish();
      });
      p.on('data', (data: AttachmentStream | MessageText) => {
        if (data.type === 'text') {
          if (typeof data.text === 'string') result.text = data.text;
          if (typeof data.html === 'string') result.html = data.html;
          return;
        }
        const slot: AttachmentSlot = { entry: newAttachmentEntry(data), done: false, upload: null };
        nameEmbeddedMessage(data, slot.entry);
        slots.push(slot);
        captureContainer(data, slot.entry, result.legacy);
        void collectAttachment(data, slot, slots.length - 1, options.attachments, result.problems).then(
          () => {
            if (!settled && typeof data.release === 'function') data.release();
          },
        );
      });
      p.on('end', finish);
      feed(p, input, 0, 0, () => settled);
    } catch (err) {
      result.error ??= err instanceof Error ? err.message : String(err);
      finish();
    }
  });
}

/** Writes the buffers of `input` to the parser a slice at a time, waiting for `drain` when it asks to. */
function feed(
  parser: MailParser,
  input: readonly Buffer[],
  index: number,
  from: number,
  stopped: () => boolean,
): void {
  let at = index;
  let offset = from;
  while (at < input.length) {
    const buffer = input[at]!;
    if (offset >= buffer.length) {
      at++;
      offset = 0;
      continue;
    }
    if (stopped()) return;
    const slice = buffer.subarray(offset, offset + INPUT_SLICE_BYTES);
    offset += slice.length;
    if (!parser.write(slice)) {
      const [nextAt, nextOffset] = [at, offset];
      parser.once('drain', () => feed(parser, input, nextAt, nextOffset, stopped));
      return;
    }
  }
  if (!stopped()) parser.end();
}
