import { isRetryable } from '../../kernel/index.ts';
import type { Attachment } from '../../message/index.ts';
import {
  type MailboxEntry,
  type MessageDetail,
  type MessageStore,
  type MessageSummary,
  messageCursor,
} from '../../store/index.ts';
import { ListingQueryError } from '../store-errors.ts';

/**
 * The mailbox read API on AWS: the dev API's resource shape, read-only, paginated. A pure function of the
 * request over the ports below, so the Lambda entry (`functions/read-api.ts`) only maps the Function URL
 * event onto it, and tests call it directly.
 *
 * - `GET /api/messages[?mailbox=&limit=&before=]` → `{ messages: [Summary…], nextCursor }` newest first
 * - `GET /api/messages/:id` → the message detail (summary, `parsed`, `auth`, `trace`, `deliveries`)
 * - `GET /api/messages/:id/raw` → the stored bytes (`message/rfc822`, base64 in the Lambda response) up to
 *   {@link MAX_INLINE_RAW_BYTES}; larger: `302` to a presigned GET of the raw object
 * - `GET /api/messages/:id/attachments/:n` → `302` to a presigned GET of the attachment (`?download=1`
 *   forces a download)
 * - `GET /api/mailboxes/:name[?limit=&before=]` → `{ mailbox, entries: [{ messageId, createdAt,
 *   receivedAt, data }], nextCursor }` newest first
 * - `GET /api/threads/:id[?limit=&before=]` → `{ thread, messages, nextCursor }` oldest first
 *
 * `nextCursor` is `messageCursor(lastRow)` when the page is full, else null; pass it back as `before`.
 * `limit` defaults to 100, at most 500. HEAD answers as GET without a body; any other method is `405`.
 * Errors are JSON `{ error }`: 400 (a bad parameter), 404, 405, 500 (the store failed; 503 when trying again
 * can help).
 */

/** Largest raw message answered in the response itself: base64 of 4 MiB is about 5.6 MB, under Lambda's 6 MB. */
export const MAX_INLINE_RAW_BYTES = 4 * 1024 * 1024;
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 500;

export interface ReadApiRequest {
  method: string;
  /** The path as received (percent-encoded), `/api/…`. */
  path: string;
  query: URLSearchParams;
}

export interface ReadApiResponse {
  status: number;
  headers: Record<string, string>;
  /** Text, or base64 when `isBase64Encoded`. */
  body: string;
  isBase64Encoded: boolean;
}

/** What the read API needs of the message store (the DynamoDB store has all of it). */
export interface ReadApiStore {
  getMessage: MessageStore['getMessage'];
  listMessages: MessageStore['listMessages'];
  listThread(threadId: string, opts: { limit: number; before?: string }): Promise<MessageSummary[]>;
  mailboxPage(
    mailbox: string,
    opts: { limit: number; before?: string },
  ): Promise<{ entries: Array<MailboxEntry & { receivedAt: string }>; nextCursor: string | null }>;
}

/** The stored bytes of one message, and where else they can be fetched. */
export interface ReadApiRawMessages {
  /** The raw object's size; null when there is none. */
  size(message: MessageDetail): Promise<number | null>;
  read(message: MessageDetail): Promise<Buffer>;
  /** A presigned GET of the raw object. */
  url(message: MessageDetail): Promise<string>;
}

export interface ReadApiAttachments {
  has(sha256: string): Promise<boolean>;
  /** A presigned GET of the attachment's bytes with its type and a safe filename. */
  url(attachment: Attachment, options: { download: boolean }): Promise<string>;
}

export interface ReadApiPorts {
  store: ReadApiStore;
  raw: ReadApiRawMessages;
  attachments: ReadApiAttachments;
}

/** A request refused with this status and `{ error: message }`. */
export class ReadApiHttpError extends Error {
  override readonly name = 'ReadApiHttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Route = (ports: ReadApiPorts, query: URLSearchParams, params: string[]) => Promise<ReadApiResponse>;

const ID = '([A-Za-z0-9._~-]{1,200})';
const ROUTES: Array<[RegExp, Route]> = [
  [/^\/api\/messages$/, listMessages],
  [new RegExp(`^/api/messages/${ID}$`), getMessage],
  [new RegExp(`^/api/messages/${ID}/raw$`), getRaw],
  [new RegExp(`^/api/messages/${ID}/attachments/(\\d{1,4})$`), getAttachment],
  [/^\/api\/mailboxes\/([^/]{1,400})$/, listMailbox],
  [/^\/api\/threads\/([^/]{1,400})$/, listThread],
];

/** Answers one request; never throws (a failure is a JSON error response). */
export async function handleReadApiRequest(
  ports: ReadApiPorts,
  request: ReadApiRequest,
): Promise<ReadApiResponse> {
  const method = request.method.toUpperCase();
  try {
    for (const [pattern, route] of ROUTES) {
      const m = pattern.exec(request.path);
      if (!m) continue;
      if (method !== 'GET' && method !== 'HEAD') {
        return {
          ...errorResponse(405, `method ${method} not allowed: the read API is read-only`),
          headers: { ...JSON_HEADERS, allow: 'GET, HEAD' },
        };
      }
      const response = await route(ports, request.query, m.slice(1));
      return method === 'HEAD' ? { ...response, body: '', isBase64Encoded: false } : response;
    }
    return errorResponse(404, 'not found');
  } catch (err) {
    if (err instanceof ReadApiHttpError) return errorResponse(err.status, err.message);
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof ListingQueryError) return errorResponse(400, message);
    return errorResponse(isRetryable(err) ? 503 : 500, message);
  }
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

function json(status: number, value: unknown): ReadApiResponse {
  return { status, headers: { ...JSON_HEADERS }, body: JSON.stringify(value), isBase64Encoded: false };
}

function errorResponse(status: number, error: string): ReadApiResponse {
  return json(status, { error });
}

function redirect(location: string): ReadApiResponse {
  return {
    status: 302,
    headers: { location, 'cache-control': 'no-store' },
    body: '',
    isBase64Encoded: false,
  };
}

/** A path segment decoded; a malformed escape is the client's error. */
function decodeSegment(segment: string | undefined): string {
  try {
    return decodeURIComponent(segment ?? '');
  } catch {
    throw new ReadApiHttpError(400, 'malformed percent-encoding in the path');
  }
}

/** `?limit=N`: a whole number from 1, clamped to {@link MAX_LIMIT}; {@link DEFAULT_LIMIT} when absent. */
function limitParam(query: URLSearchParams): number {
  const value = query.get('limit');
  if (value === null) return DEFAULT_LIMIT;
  const limit = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(limit) || limit < 1) {
    throw new ReadApiHttpError(400, 'limit must be a positive whole number');
  }
  return Math.min(limit, MAX_LIMIT);
}

function beforeParam(query: URLSearchParams): { before?: string } {
  const before = query.get('before');
  if (before === null) return {};
  if (before === '' || before.length > 1000) throw new ReadApiHttpError(400, 'before must be a cursor');
  return { before };
}

function nextCursor(page: MessageSummary[], limit: number): string | null {
  const last = page.at(-1);
  return page.length === limit && last ? messageCursor(last) : null;
}

async function listMessages(ports: ReadApiPorts, query: URLSearchParams): Promise<ReadApiResponse> {
  const limit = limitParam(query);
  const mailbox = query.get('mailbox');
  const messages = await ports.store.listMessages({
    limit,
    ...beforeParam(query),
    ...(mailbox === null || mailbox === '' ? {} : { mailbox }),
  });
  return json(200, { messages, nextCursor: nextCursor(messages, limit) });
}

async function message(ports: ReadApiPorts, id: string): Promise<MessageDetail> {
  const found = await ports.store.getMessage(id);
  if (!found) throw new ReadApiHttpError(404, `no message ${id}`);
  return found;
}

async function getMessage(ports: ReadApiPorts, _q: URLSearchParams, [id]: string[]) {
  return json(200, await message(ports, id ?? ''));
}

async function getRaw(ports: ReadApiPorts, _q: URLSearchParams, [id]: string[]) {
  const found = await message(ports, id ?? '');
  const size = await ports.raw.size(found);
  if (size === null) throw new ReadApiHttpError(404, `the raw bytes of message ${found.id} are gone`);
  if (size > MAX_INLINE_RAW_BYTES) return redirect(await ports.raw.url(found));
  const bytes = await ports.raw.read(found);
  return {
    status: 200,
    headers: {
      'content-type': 'message/rfc822',
      'content-disposition': `attachment; filename="${found.id.replace(/[^A-Za-z0-9._-]/g, '_')}.eml"`,
      'cache-control': 'no-store',
    },
    body: bytes.toString('base64'),
    isBase64Encoded: true,
  };
}

async function getAttachment(ports: ReadApiPorts, query: URLSearchParams, [id, n]: string[]) {
  const found = await message(ports, id ?? '');
  const attachment = found.parsed?.attachments[Number(n)];
  if (!attachment) throw new ReadApiHttpError(404, `message ${found.id} has no attachment ${n}`);
  if (attachment.stored === false || !(await ports.attachments.has(attachment.sha256))) {
    throw new ReadApiHttpError(404, `attachment ${n} of message ${found.id} was not stored`);
  }
  return redirect(await ports.attachments.url(attachment, { download: query.get('download') === '1' }));
}

async function listMailbox(ports: ReadApiPorts, query: URLSearchParams, [name]: string[]) {
  const mailbox = decodeSegment(name);
  const page = await ports.store.mailboxPage(mailbox, { limit: limitParam(query), ...beforeParam(query) });
  const entries = page.entries.map(({ messageId, createdAt, receivedAt, data }) => ({
    messageId,
    createdAt,
    receivedAt,
    data,
  }));
  return json(200, { mailbox, entries, nextCursor: page.nextCursor });
}

async function listThread(ports: ReadApiPorts, query: URLSearchParams, [name]: string[]) {
  const thread = decodeSegment(name);
  const limit = limitParam(query);
  const before = beforeParam(query);
  const messages = await ports.store.listThread(thread, { limit, ...before });
  if (messages.length === 0 && before.before === undefined)
    throw new ReadApiHttpError(404, `no thread ${thread}`);
  return json(200, { thread, messages, nextCursor: nextCursor(messages, limit) });
}
