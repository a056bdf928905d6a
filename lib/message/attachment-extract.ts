import { PassThrough, type Readable } from 'node:stream';
import type { AttachmentSinkUpload } from './attachment-sink.ts';
import { AttachmentExtractionError } from './errors.ts';
import { parseMessage } from './parse-message.ts';
import type { ParseLimits } from './types.ts';

/** A sink upload that hands the bytes to `out`, waiting while its reader is behind. */
function streamUpload(out: PassThrough, done: { value: boolean }): AttachmentSinkUpload {
  return {
    async write(chunk) {
      if (out.destroyed) throw new AttachmentExtractionError('the reader went away');
      if (!out.write(chunk)) {
        await new Promise<void>((resolve) => {
          const go = () => {
            out.off('drain', go);
            out.off('close', go);
            resolve();
          };
          out.on('drain', go);
          out.on('close', go);
        });
      }
    },
    async commit() {
      done.value = true;
      out.end();
      return { created: true, size: 0 };
    },
    async abort() {},
  };
}

/**
 * The decoded content of attachment `index` (its position in `ParsedMessage.attachments`), extracted again
 * from the raw message by the same bounded parse (`limits` must be the ones the message was parsed with,
 * so that indexes agree), streamed: the parse waits for the reader. The stream fails with an
 * {@link AttachmentExtractionError} when there is no such attachment or the parse stopped before its end
 * (the parse's time budget includes the time the reader takes).
 */
export function extractAttachment(raw: Buffer, index: number, limits?: ParseLimits): Readable {
  const out = new PassThrough({ highWaterMark: 256 * 1024 });
  const done = { value: false };
  const sink = { begin: () => streamUpload(out, done) };
  void parseMessage(raw, limits, { attachments: { sink, keep: (info) => info.index === index } }).then(
    (message) => {
      if (done.value || out.destroyed) return;
      const why =
        index < message.attachments.length
          ? `the parse stopped before attachment ${index} ended (${message.problems.join('; ') || 'no detail'})`
          : `the message has no attachment ${index} (it has ${message.attachments.length})`;
      out.destroy(new AttachmentExtractionError(why));
    },
  );
  return out;
}
