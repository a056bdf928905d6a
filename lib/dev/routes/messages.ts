import type { IncomingMessage } from 'node:http';
import type { Envelope } from '../../kernel/index.ts';
import { receivedHeader } from '../../smtp/index.ts';
import {
  DEFAULT_ATTACHMENT_GRACE_HOURS,
  deleteStoredMessages,
  messageCursor,
  pruneAttachments,
} from '../../store/index.ts';
import { envelopeParams } from '../envelope-params.ts';
import { HttpError } from '../errors.ts';
import type { HttpApiDeps, RouteHandler } from './context.ts';
import { messageQuery } from './message-query.ts';
import { json, noContent, readJson } from './respond.ts';

// The message collection: list (filters, search, paging), inject, delete (one, by filter, all), read state.

/** `GET /api/messages?mailbox=&status=&route=&failed=1&q=&limit=&before=` → `{messages, nextCursor}`. */
export const listMessages: RouteHandler = async (deps, _req, res, url) => {
  const query = messageQuery(url);
  const messages = await deps.store.listMessages(query);
  const last = messages[messages.length - 1];
  const nextCursor = last && messages.length >= query.limit ? messageCursor(last) : null;
  json(res, 200, { messages, nextCursor });
};

/** Deletes a message everywhere (bytes, then records: see `deleteStoredMessages`); false when unknown. */
async function deleteOne(deps: HttpApiDeps, id: string): Promise<boolean> {
  const { messages } = await deleteStoredMessages({ store: deps.store, rawStore: deps.rawStore, ids: [id] });
  return messages > 0;
}

/**
 * Removes stored attachments that no remaining message lists, once unused for the retention grace period
 * (content just stored may belong to a message whose parse is not saved yet).
 */
async function sweepAttachments(deps: HttpApiDeps): Promise<void> {
  if (!deps.attachments) return;
  await pruneAttachments({
    store: deps.store,
    attachments: deps.attachments.store,
    now: new Date(),
    graceHours: deps.config.retention?.attachmentGraceHours ?? DEFAULT_ATTACHMENT_GRACE_HOURS,
  });
}

/** The pipeline still works on a message in these: deleting it then would leave its later writes orphaned. */
const UNFINISHED = new Set(['received', 'processing']);

/** `DELETE /api/messages/:id` → 204; 404 when unknown, 409 while the pipeline still processes it. */
export const deleteMessage: RouteHandler = async (deps, _req, res, _url, m) => {
  const id = m[1]!;
  const message = await deps.store.getMessage(id);
  if (message && UNFINISHED.has(message.status)) {
    throw new HttpError(
      409,
      `message ${id} is still ${message.status}: delete it once it is processed or failed`,
    );
  }
  if (!(await deleteOne(deps, id))) throw new HttpError(404, `no message ${id}`);
  await sweepAttachments(deps);
  deps.events.send('message.deleted', { id });
  noContent(res);
};

/**
 * `DELETE /api/messages[?filters of GET]` → `{deleted}`: every finished message the filters select (none:
 * all); messages the pipeline still processes are left.
 */
export const deleteMessages: RouteHandler = async (deps, _req, res, url) => {
  const { limit: _pageSize, ...query } = messageQuery(url);
  const filtered = Object.keys(query).length > 0;
  const deleted: string[] = [];
  let kept = 0;
  let before = query.before;
  for (;;) {
    const page = await deps.store.listMessages({ ...query, before, limit: 500 });
    for (const message of page) {
      if (UNFINISHED.has(message.status)) kept++;
      else if (await deleteOne(deps, message.id)) deleted.push(message.id);
    }
    const last = page[page.length - 1];
    if (!last || page.length < 500) break;
    before = messageCursor(last);
  }
  await sweepAttachments(deps);
  if (!filtered && kept === 0) deps.events.send('message.deleted', { all: true });
  else for (const id of deleted) deps.events.send('message.deleted', { id });
  json(res, 200, { deleted: deleted.length });
};

/** `PUT /api/messages/:id/read` with `{"read": true|false}` → 204. */
export const setRead: RouteHandler = async (deps, req, res, _url, m) => {
  const id = m[1]!;
  const body = await readJson(req, 1024);
  const read = (body as { read?: unknown } | null)?.read;
  if (typeof read !== 'boolean') throw new HttpError(400, 'read must be true or false: {"read": true}');
  if (!(await deps.store.hasMessage(id))) throw new HttpError(404, `no message ${id}`);
  await deps.store.setRead(id, read);
  deps.events.send('message.read', { id, read });
  noContent(res);
};

/** `GET /api/mailboxes` → `{mailboxes: [{name, count, unread}]}` by name. */
export const listMailboxes: RouteHandler = async (deps, _req, res) => {
  json(res, 200, { mailboxes: await deps.store.listMailboxes() });
};

/**
 * Hands a message to the pipeline as SMTP would: each recipient checked as RCPT checks it (refused ones
 * listed), a Received header naming the HTTP client. Used by `POST /api/messages` and `POST /api/compose`.
 */
export async function acceptMessage(
  deps: HttpApiDeps,
  req: IncomingMessage,
  envelope: { from: string; to: string[] },
  body: AsyncIterable<Buffer> | Buffer,
): Promise<{ id: string; refused?: Array<{ recipient: string; code: number; message: string }> }> {
  const { from, to } = envelope;
  if (to.length === 0) throw new HttpError(400, 'give at least one recipient');
  if (to.length > deps.config.smtp.maxRecipients) {
    throw new HttpError(400, `at most ${deps.config.smtp.maxRecipients} recipients`);
  }
  const accepted: string[] = [];
  const refused: Array<{ recipient: string; code: number; message: string }> = [];
  for (const rcpt of to) {
    const verdict = deps.router.checkRecipient(rcpt, { mailFrom: from });
    if (verdict.accepted) accepted.push(rcpt);
    else refused.push({ recipient: rcpt, code: verdict.code, message: verdict.message });
  }
  if (accepted.length === 0) throw new HttpError(422, 'every recipient was refused', { refused });
  // No SMTP client address: there was no SMTP transaction to check SPF against, so the pipeline records
  // `none` verdicts saying so. The HTTP client's address is kept in the Received header.
  const accepting: Envelope = { mailFrom: from, rcptTo: accepted };
  const prefix = Buffer.from(
    receivedHeader({
      hostname: deps.config.smtp.hostname,
      helo: 'mailroom-http-api',
      remoteAddress: req.socket.remoteAddress ?? '127.0.0.1',
      protocol: 'HTTP',
      id: 'api',
      recipients: accepted,
    }),
  );
  const { id } = await deps.pipeline.accept({ envelope: accepting, prefix, body });
  // The answer names the message: `GET /api/messages/<id>` must find it (a worker records it a moment later).
  await deps.pipeline.recorded(id);
  return refused.length ? { id, refused } : { id };
}

/** `POST /api/messages?from=&to=` with a `message/rfc822` body → 201 `{id, refused?}`. */
export const injectMessage: RouteHandler = async (deps, req, res, url) => {
  const envelope = envelopeParams(url);
  if (envelope.to.length === 0) throw new HttpError(400, 'give at least one recipient: ?to=ADDR');
  const max = deps.config.smtp.maxMessageBytes;
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) throw new HttpError(413, `message exceeds ${max} bytes`);
  json(res, 201, await acceptMessage(deps, req, envelope, limitedBody(req, max)));
};

async function* limitedBody(req: IncomingMessage, max: number): AsyncGenerator<Buffer> {
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new HttpError(413, `message exceeds ${max} bytes`);
    yield chunk as Buffer;
  }
  if (size === 0) throw new HttpError(400, 'empty body: send the message as message/rfc822');
}
