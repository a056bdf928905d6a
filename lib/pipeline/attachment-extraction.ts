import type { AttachmentAccess } from '../actions/index.ts';
import { contentTypeKept, DEFAULT_ATTACHMENTS } from '../config/index.ts';
import type { AttachmentExtraction, ParsedMessage } from '../message/index.ts';
import type { ProcessingPorts } from './ports.ts';

/** What one parse put into the attachment store. */
export interface AttachmentTally {
  stored: number;
  /** Attachments whose content was not there before. */
  created: number;
  /** Bytes those added. */
  bytes: number;
}

/**
 * How the parse keeps attachments, from `ports.attachments` and the config's `attachments` options; null
 * when they are not kept (no store, or `attachments.store: false`). Counts what was stored into `tally`.
 */
export function attachmentExtraction(
  ports: ProcessingPorts,
  tally: AttachmentTally,
): AttachmentExtraction | null {
  const options = ports.config.attachments ?? DEFAULT_ATTACHMENTS;
  const store = ports.attachments?.store;
  if (!store || !options.store) return null;
  return {
    sink: {
      begin() {
        const upload = store.begin();
        return {
          write: (chunk) => upload.write(chunk),
          abort: () => upload.abort(),
          async commit(sha256) {
            const result = await upload.commit(sha256);
            tally.stored++;
            if (result.created) {
              tally.created++;
              tally.bytes += result.size;
            }
            return result;
          },
        };
      },
    },
    keep: (info) => contentTypeKept(options.contentTypes, info.contentType),
    maxSize: options.maxSize,
  };
}

/** Fills each kept attachment's `url`: the stable API path of its bytes. */
export function linkAttachments(id: string, message: ParsedMessage): void {
  message.attachments.forEach((a, n) => {
    a.url = a.stored ? `/api/messages/${id}/attachments/${n}` : null;
  });
}

/** `2 stored (1 new, 20971520 bytes); 1 not kept`: the trace entry `attachments`. */
export function describeTally(message: ParsedMessage, tally: AttachmentTally): string {
  const notKept = message.attachments.length - tally.stored;
  return `${tally.stored} stored (${tally.created} new, ${tally.bytes} bytes)${notKept > 0 ? `; ${notKept} not kept` : ''}`;
}

/** How actions reach the attachments of the messages these ports process. */
export function attachmentAccess(ports: ProcessingPorts): AttachmentAccess {
  const access: AttachmentAccess = {
    parseLimits: ports.config.parse,
    urlExpiresIn: (ports.config.attachments ?? DEFAULT_ATTACHMENTS).urlExpiresIn,
  };
  const attachments = ports.attachments;
  if (attachments) {
    access.store = attachments.store;
    access.url = (ref) => attachments.url(ref);
  }
  return access;
}
