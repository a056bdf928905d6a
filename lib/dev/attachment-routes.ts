import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { MailroomConfig } from '../config/index.ts';
import { type Attachment, extractAttachment, safeFilename } from '../message/index.ts';
import type { AttachmentStore, MessageStore, RawStore } from '../store/index.ts';
import type { AttachmentUrlSigner } from './attachment-url-signer.ts';
import { HttpError } from './errors.ts';

/** The attachment store of the local mailroom and the signer of its `/files/` links. */
export interface DevAttachments {
  store: AttachmentStore;
  signer: AttachmentUrlSigner;
}

/** What the attachment routes need of the HTTP API's dependencies. */
export interface AttachmentRouteDeps {
  config: MailroomConfig;
  store: MessageStore;
  rawStore: RawStore;
  attachments?: DevAttachments;
}

const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/** The part's media type without parameters, when it is a plain `type/subtype`; else octet-stream. */
function mediaType(contentType: string): string {
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return MEDIA_TYPE.test(type) ? type : 'application/octet-stream';
}

/** `inline` only for images a browser shows as pictures (never SVG, which can run script); else `attachment`. */
function disposition(type: string, filename: string | null, download: boolean): string {
  const inline = !download && type.startsWith('image/') && type !== 'image/svg+xml';
  const name = safeFilename(filename);
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

async function findAttachment(deps: AttachmentRouteDeps, id: string, n: number): Promise<Attachment> {
  const message = await deps.store.getMessage(id);
  if (!message) throw new HttpError(404, `no message ${id}`);
  const attachment = message.parsed?.attachments[n];
  if (!attachment) throw new HttpError(404, `message ${id} has no attachment ${n}`);
  return attachment;
}

/** Its bytes: from the attachment store when kept there, else extracted again from the raw message. */
async function openBytes(deps: AttachmentRouteDeps, id: string, n: number, a: Attachment): Promise<Readable> {
  const stored = a.stored && deps.attachments ? await deps.attachments.store.open(a.sha256) : null;
  if (stored) return stored;
  return extractAttachment(await deps.rawStore.get(id), n, deps.config.parse);
}

async function send(
  deps: AttachmentRouteDeps,
  res: ServerResponse,
  id: string,
  n: number,
  a: Attachment,
  download: boolean,
): Promise<void> {
  const bytes = await openBytes(deps, id, n, a);
  const type = mediaType(a.contentType);
  res.writeHead(200, {
    'content-type': type,
    'content-length': a.size,
    'content-disposition': disposition(type, a.filename, download),
    'content-security-policy': "sandbox; default-src 'none'; style-src 'unsafe-inline'",
    'x-content-type-options': 'nosniff',
    'cache-control': 'private, max-age=0',
  });
  // A failure after the headers ends the response early (handleApiRequest destroys it).
  await pipeline(bytes, res);
}

function indexParam(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new HttpError(404, `no attachment ${value}`);
  return n;
}

/** `GET /api/messages/:id/attachments/:n[?download=1]`: the decoded bytes of one attachment. */
export async function getAttachment(
  deps: AttachmentRouteDeps,
  _req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  m: RegExpMatchArray,
): Promise<void> {
  const id = m[1]!;
  const n = indexParam(m[2]!);
  const attachment = await findAttachment(deps, id, n);
  await send(deps, res, id, n, attachment, url.searchParams.get('download') === '1');
}

/** `GET /files/:token`: the attachment a signed, expiring link names (403 bad signature, 410 expired). */
export async function getSignedFile(
  deps: AttachmentRouteDeps,
  _req: IncomingMessage,
  res: ServerResponse,
  _url: URL,
  m: RegExpMatchArray,
): Promise<void> {
  if (!deps.attachments) throw new HttpError(404, 'attachment links are not served here');
  const token = deps.attachments.signer.verify(m[1]!);
  const attachment = await findAttachment(deps, token.messageId, token.index);
  if (attachment.sha256 !== token.sha256) throw new HttpError(404, 'the linked attachment is gone');
  await send(deps, res, token.messageId, token.index, attachment, true);
}
