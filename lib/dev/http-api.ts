import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticationResultsHeader } from '../auth/index.ts';
import type { MailroomConfig } from '../config/index.ts';
import type { Envelope } from '../kernel/index.ts';
import type { Pipeline } from '../pipeline/index.ts';
import type { Router } from '../routing/index.ts';
import { receivedHeader } from '../smtp/index.ts';
import type { MessageStore, RawStore } from '../store/index.ts';
import { type DevAttachments, getAttachment, getSignedFile } from './attachment-routes.ts';
import { envelopeParams } from './envelope-params.ts';
import { HttpError } from './errors.ts';
import { renderIndexPage } from './index-page.ts';
import {
  checkHost,
  checkOrigin,
  checkProof,
  isStateChanging,
  REQUEST_HEADER,
  type RequestProof,
} from './request-guard.ts';
import type { SseHub } from './sse-hub.ts';

export { HttpError } from './errors.ts';

export interface HttpApiDeps {
  config: MailroomConfig;
  pipeline: Pipeline;
  router: Router;
  store: MessageStore;
  rawStore: RawStore;
  events: SseHub;
  attachments?: DevAttachments;
}

const ID = '([a-z0-9-]{1,64})';
const routes: Array<
  [
    string,
    RegExp,
    (
      deps: HttpApiDeps,
      req: IncomingMessage,
      res: ServerResponse,
      url: URL,
      m: RegExpMatchArray,
    ) => Promise<void>,
    // What a state-changing route needs to show that no cross-site page sent it (request-guard.ts).
    RequestProof?,
  ]
> = [
  ['GET', /^\/api\/health$/, async (_d, _q, res) => json(res, 200, { ok: true })],
  ['GET', /^\/api\/messages$/, listMessages],
  ['POST', /^\/api\/messages$/, injectMessage, 'message/rfc822'],
  ['GET', new RegExp(`^/api/messages/${ID}$`), getMessage],
  ['GET', new RegExp(`^/api/messages/${ID}/raw$`), getRaw],
  ['GET', new RegExp(`^/api/messages/${ID}/html$`), getHtml],
  ['GET', new RegExp(`^/api/messages/${ID}/attachments/(\\d{1,6})$`), getAttachment],
  ['GET', /^\/files\/([A-Za-z0-9_.-]{1,1024})$/, getSignedFile],
  ['POST', new RegExp(`^/api/messages/${ID}/replay$`), replayMessage, REQUEST_HEADER],
  ['GET', /^\/api\/mailboxes\/([A-Za-z0-9._-]{1,64})$/, listMailbox],
  ['GET', new RegExp(`^/api/threads/${ID}$`), getThread],
  ['GET', /^\/api\/outbox$/, listOutbox],
  ['GET', new RegExp(`^/api/outbox/${ID}/raw$`), getOutboxRaw],
  ['GET', /^\/api\/events$/, async (d, _q, res) => d.events.add(res)],
  ['GET', /^\/$/, async (_d, _q, res) => html(res, renderIndexPage())],
];

/** Handles one request of the dev HTTP API (see DESIGN.md for the contract). */
export async function handleApiRequest(
  deps: HttpApiDeps,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  // No response, not even the page or an error, may be sniffed into something else by a browser.
  res.setHeader('x-content-type-options', 'nosniff');
  try {
    checkHost(req, deps.config.http.host);
    const stateChanging = isStateChanging(req.method);
    if (stateChanging) checkOrigin(req);
    let pathMatched = false;
    for (const [method, pattern, fn, proof] of routes) {
      const m = url.pathname.match(pattern);
      if (!m) continue;
      pathMatched = true;
      if (method === req.method || (method === 'GET' && req.method === 'HEAD')) {
        if (stateChanging) checkProof(req, proof ?? REQUEST_HEADER);
        await fn(deps, req, res, url, m);
        return;
      }
    }
    throw pathMatched
      ? new HttpError(405, `method ${req.method} not allowed`)
      : new HttpError(404, 'not found');
  } catch (err) {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof HttpError) json(res, err.status, { error: err.message, ...err.body });
    else json(res, 500, { error: err instanceof Error ? err.message : String(err) });
  }
}

/** The most rows one listing answers, whatever `?limit` asks: larger values are clamped to it. */
export const MAX_LIMIT = 500;

/** `?limit=N`: a positive integer clamped to MAX_LIMIT, or undefined when absent. */
function limitParam(url: URL): number | undefined {
  const value = url.searchParams.get('limit');
  if (value === null) return undefined;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1) throw new HttpError(400, 'limit must be a positive integer');
  return Math.min(limit, MAX_LIMIT);
}

async function listMessages(deps: HttpApiDeps, _req: IncomingMessage, res: ServerResponse, url: URL) {
  const mailbox = url.searchParams.get('mailbox') ?? undefined;
  const limit = limitParam(url);
  json(res, 200, { messages: await deps.store.listMessages({ mailbox, limit }) });
}

/** The newest `limit` entries (default and most MAX_LIMIT), oldest first like the store keeps them. */
async function listMailbox(
  deps: HttpApiDeps,
  _req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  m: RegExpMatchArray,
) {
  const limit = limitParam(url) ?? MAX_LIMIT;
  const entries = (await deps.store.listMailboxEntries(m[1]!)).slice(-limit);
  json(res, 200, {
    mailbox: m[1],
    entries: entries.map(({ messageId, createdAt, data }) => ({ messageId, createdAt, data })),
  });
}

async function getThread(
  deps: HttpApiDeps,
  _req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  m: RegExpMatchArray,
) {
  const messages = await deps.store.listThread(m[1]!, { limit: limitParam(url) });
  if (messages.length === 0) throw new HttpError(404, `no thread ${m[1]}`);
  json(res, 200, { thread: m[1], messages });
}

async function listOutbox(deps: HttpApiDeps, _req: IncomingMessage, res: ServerResponse, url: URL) {
  const inReplyTo = url.searchParams.get('inReplyTo') ?? undefined;
  const limit = limitParam(url);
  json(res, 200, { messages: await deps.store.listOutbox({ inReplyTo, limit }) });
}

async function getOutboxRaw(
  deps: HttpApiDeps,
  _req: IncomingMessage,
  res: ServerResponse,
  _url: URL,
  m: RegExpMatchArray,
) {
  const entry = await deps.store.getOutboxEntry(m[1]!);
  if (!entry) throw new HttpError(404, `no outbox message ${m[1]}`);
  res.writeHead(200, rawHeaders(entry.raw.length));
  res.end(entry.raw);
}

/**
 * The message's HTML body, sandboxed: no scripts, no forms, no remote loads (images only from `data:`
 * URLs), its own opaque origin, so a hostile message can neither run code nor tell its sender it was read.
 */
async function getHtml(
  deps: HttpApiDeps,
  _req: IncomingMessage,
  res: ServerResponse,
  _url: URL,
  m: RegExpMatchArray,
) {
  const message = await deps.store.getMessage(m[1]!);
  if (!message) throw new HttpError(404, `no message ${m[1]}`);
  const body = message.parsed?.html;
  if (body == null) throw new HttpError(404, `message ${m[1]} has no HTML body`);
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy':
      "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; form-action 'none'; base-uri 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
  });
  res.end(body);
}

async function getMessage(
  deps: HttpApiDeps,
  _req: IncomingMessage,
  res: ServerResponse,
  _url: URL,
  m: RegExpMatchArray,
) {
  const message = await deps.store.getMessage(m[1]!);
  if (!message) throw new HttpError(404, `no message ${m[1]}`);
  // The RFC 8601 header for our verdicts, for display: the stored bytes stay as they were received.
  const authenticationResults = message.auth
    ? authenticationResultsHeader(message.auth, deps.config.auth.authservId)
    : null;
  json(res, 200, { ...message, authenticationResults });
}

async function getRaw(
  deps: HttpApiDeps,
  _req: IncomingMessage,
  res: ServerResponse,
  _url: URL,
  m: RegExpMatchArray,
) {
  if (!(await deps.store.hasMessage(m[1]!))) throw new HttpError(404, `no message ${m[1]}`);
  const raw = await deps.rawStore.get(m[1]!);
  res.writeHead(200, rawHeaders(raw.length));
  res.end(raw);
}

async function replayMessage(
  deps: HttpApiDeps,
  _req: IncomingMessage,
  res: ServerResponse,
  _url: URL,
  m: RegExpMatchArray,
) {
  const id = m[1]!;
  if (!(await deps.store.hasMessage(id))) throw new HttpError(404, `no message ${id}`);
  await deps.pipeline.replay(id);
  const message = await deps.store.getMessage(id);
  json(res, 200, { id, status: message?.status ?? null, deliveries: message?.deliveries ?? [] });
}

async function injectMessage(deps: HttpApiDeps, req: IncomingMessage, res: ServerResponse, url: URL) {
  const { from, to } = envelopeParams(url);
  if (to.length === 0) throw new HttpError(400, 'give at least one recipient: ?to=ADDR');
  if (to.length > deps.config.smtp.maxRecipients) {
    throw new HttpError(400, `at most ${deps.config.smtp.maxRecipients} recipients`);
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > deps.config.smtp.maxMessageBytes) {
    throw new HttpError(413, `message exceeds ${deps.config.smtp.maxMessageBytes} bytes`);
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
  const envelope: Envelope = { mailFrom: from, rcptTo: accepted };
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
  const { id } = await deps.pipeline.accept({
    envelope,
    prefix,
    body: limitedBody(req, deps.config.smtp.maxMessageBytes),
  });
  json(res, 201, refused.length ? { id, refused } : { id });
}

async function* limitedBody(req: IncomingMessage, max: number): AsyncGenerator<Buffer> {
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new HttpError(413, `message exceeds ${max} bytes`);
    yield chunk as Buffer;
  }
  if (size === 0) throw new HttpError(400, 'empty body: send the message as message/rfc822');
}

/** Stored message bytes: never sniffed as HTML, never embedded by another origin. */
function rawHeaders(length: number): Record<string, string | number> {
  return {
    'content-type': 'message/rfc822',
    'content-length': length,
    'cross-origin-resource-policy': 'same-origin',
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(data),
  });
  res.end(data);
}

function html(res: ServerResponse, body: string): void {
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy':
      "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'",
  });
  res.end(body);
}
