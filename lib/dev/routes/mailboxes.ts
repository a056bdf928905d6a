import { HttpError } from '../errors.ts';
import type { RouteHandler } from './context.ts';
import { json, limitParam, MAX_LIMIT, rawHeaders } from './respond.ts';

// Mailbox entries, threads and the outbox: what handlers kept, how messages hang together, what was sent.

/** `GET /api/mailboxes/:name` → the newest `limit` entries (default and most MAX_LIMIT), oldest first. */
export const listMailbox: RouteHandler = async (deps, _req, res, url, m) => {
  const limit = limitParam(url) ?? MAX_LIMIT;
  const entries = (await deps.store.listMailboxEntries(m[1]!)).slice(-limit);
  json(res, 200, {
    mailbox: m[1],
    entries: entries.map(({ messageId, createdAt, data }) => ({ messageId, createdAt, data })),
  });
};

/** `GET /api/threads/:id` → the thread's messages, oldest first. */
export const getThread: RouteHandler = async (deps, _req, res, url, m) => {
  const messages = await deps.store.listThread(m[1]!, { limit: limitParam(url) });
  if (messages.length === 0) throw new HttpError(404, `no thread ${m[1]}`);
  json(res, 200, { thread: m[1], messages });
};

/** `GET /api/outbox[?inReplyTo=ID]` → sent messages, newest first. */
export const listOutbox: RouteHandler = async (deps, _req, res, url) => {
  const inReplyTo = url.searchParams.get('inReplyTo') ?? undefined;
  const limit = limitParam(url);
  json(res, 200, { messages: await deps.store.listOutbox({ inReplyTo, limit }) });
};

/** `GET /api/outbox/:id/raw` → the sent bytes. */
export const getOutboxRaw: RouteHandler = async (deps, _req, res, _url, m) => {
  const entry = await deps.store.getOutboxEntry(m[1]!);
  if (!entry) throw new HttpError(404, `no outbox message ${m[1]}`);
  res.writeHead(200, rawHeaders(entry.raw.length));
  res.end(entry.raw);
};
