import { PassThrough, type Readable } from 'node:stream';
import { type Attachment, extractAttachment, type ParseLimits } from '../message/index.ts';
import type { AttachmentStore } from '../store/index.ts';

/** Names one attachment of one stored message (the pipeline's `AttachmentRef`). */
export interface AttachmentLinkRef {
  messageId: string;
  /** Its index in `ParsedMessage.attachments`. */
  index: number;
  sha256: string;
  filename: string | null;
  contentType: string;
}

/** How actions reach a message's attachments: the store and URL signer of the pipeline, when it keeps them. */
export interface AttachmentAccess {
  /** Where kept attachments are (`stored: true`). None: every attachment is extracted from the raw message. */
  store?: Pick<AttachmentStore, 'open'>;
  /** A time-limited absolute URL to a kept attachment; null when none can be given. */
  url?: (ref: AttachmentLinkRef) => Promise<string | null>;
  /** The limits the message was parsed with (extraction from the raw message must find the same parts). */
  parseLimits?: ParseLimits;
  /** Seconds a URL from `url` works (for `urlExpiresAt`). */
  urlExpiresIn: number;
}

/** An attachment in a webhook, Lambda or EventBridge payload. */
export interface PayloadAttachment extends Attachment {
  /** A time-limited absolute URL to its bytes (S3 presigned on AWS, signed dev-server URL locally); null when not kept or not reachable. */
  url: string | null;
  /** When `url` stops working (ISO 8601); null without a URL. */
  urlExpiresAt: string | null;
}

/**
 * One attachment as a handler gets it: its description (`ParsedMessage.attachments[i]`, whose `url` field,
 * the API path, is `ctx.message.attachments[i].url`), and its bytes.
 */
export type HandlerAttachment = Omit<Attachment, 'url'> & {
  /** Its decoded bytes, streamed (from the store, or extracted again from `ctx.raw` when not kept). */
  stream(): Readable;
  /** Its decoded bytes in memory. */
  buffer(): Promise<Buffer>;
  /** A time-limited absolute URL to its bytes; null when it was not kept or no URL can be given. */
  url(): Promise<string | null>;
};

/** What an action run knows that these helpers need. */
interface AttachmentFacts {
  messageId: string;
  message: { attachments: Attachment[] };
  raw: Buffer;
  attachments?: AttachmentAccess;
  now?: () => Date;
}

function refOf(messageId: string, index: number, a: Attachment): AttachmentLinkRef {
  return { messageId, index, sha256: a.sha256, filename: a.filename, contentType: a.contentType };
}

async function signedUrl(run: AttachmentFacts, index: number, a: Attachment): Promise<string | null> {
  const access = run.attachments;
  if (!a.stored || !access?.url) return null;
  return access.url(refOf(run.messageId, index, a));
}

/** The message's attachments with their time-limited URLs, for a payload. */
export async function payloadAttachments(run: AttachmentFacts): Promise<PayloadAttachment[]> {
  const now = (run.now ?? (() => new Date()))();
  const expiresAt = new Date(now.getTime() + (run.attachments?.urlExpiresIn ?? 0) * 1000).toISOString();
  return Promise.all(
    run.message.attachments.map(async (a, index) => {
      const url = await signedUrl(run, index, a);
      return { ...a, url, urlExpiresAt: url === null ? null : expiresAt };
    }),
  );
}

/** The attachment's bytes: from the store when kept there, else extracted again from the raw message. */
function openAttachment(run: AttachmentFacts, index: number, a: Attachment): Readable {
  const out = new PassThrough();
  const store = run.attachments?.store;
  const fromRaw = () => extractAttachment(run.raw, index, run.attachments?.parseLimits);
  const opened = a.stored && store ? store.open(a.sha256).catch(() => null) : Promise.resolve(null);
  void opened.then((stored) => {
    const source = stored ?? fromRaw();
    source.once('error', (err) => out.destroy(err));
    source.pipe(out);
  });
  return out;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** `ctx.attachments`: each attachment with `stream()`, `buffer()` and `url()`. */
export function handlerAttachments(run: AttachmentFacts): HandlerAttachment[] {
  return run.message.attachments.map((a, index) => ({
    ...a,
    stream: () => openAttachment(run, index, a),
    buffer: () => readAll(openAttachment(run, index, a)),
    url: () => signedUrl(run, index, a),
  }));
}
