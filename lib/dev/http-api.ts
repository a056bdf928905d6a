import type { IncomingMessage, ServerResponse } from 'node:http';
import { MessageQueryError } from '../store/index.ts';
import { serveAsset } from './assets.ts';
import { getAttachment, getSignedFile } from './attachment-routes.ts';
import { HttpError } from './errors.ts';
import { serveIndexPage } from './index-page.ts';
import {
  checkHost,
  checkOrigin,
  checkProof,
  isStateChanging,
  REQUEST_HEADER,
  type RequestProof,
} from './request-guard.ts';
import { checkRoute, composeMessage } from './routes/compose.ts';
import type { HttpApiDeps, RouteHandler } from './routes/context.ts';
import { getOutboxRaw, getThread, listMailbox, listOutbox } from './routes/mailboxes.ts';
import { getMessage, getRaw, getRouting, replayDelivery, replayMessage } from './routes/message-detail.ts';
import { getHtml } from './routes/message-html.ts';
import {
  deleteMessage,
  deleteMessages,
  injectMessage,
  listMailboxes,
  listMessages,
  setRead,
} from './routes/messages.ts';
import { json } from './routes/respond.ts';

export { HttpError } from './errors.ts';
export type { HttpApiDeps, RouteHandler } from './routes/context.ts';
export { MAX_LIMIT } from './routes/respond.ts';

/**
 * One route: method, path pattern (captures become `m[1]`…), handler, and for a state-changing route what
 * it needs to show that no cross-site page sent it (request-guard.ts; default the X-Mailroom-Request header).
 */
type Route = [method: string, path: RegExp, handler: RouteHandler, proof?: RequestProof];

const ID = '([a-z0-9-]{1,64})';
const message = (rest = '') => new RegExp(`^/api/messages/${ID}${rest}$`);

// The dev HTTP API (README, "Dev HTTP API"): one line per route, handlers grouped by resource in routes/.
const routes: Route[] = [
  ['GET', /^\/api\/health$/, async (_d, _q, res) => json(res, 200, { ok: true })],
  ['GET', /^\/api\/messages$/, listMessages],
  ['POST', /^\/api\/messages$/, injectMessage, 'message/rfc822'],
  ['DELETE', /^\/api\/messages$/, deleteMessages],
  ['GET', message(), getMessage],
  ['DELETE', message(), deleteMessage],
  ['GET', message('/raw'), getRaw],
  ['GET', message('/html'), getHtml],
  ['GET', message('/attachments/(\\d{1,6})'), getAttachment],
  ['GET', /^\/files\/([A-Za-z0-9_.-]{1,1024})$/, getSignedFile],
  ['GET', message('/routing'), getRouting],
  ['PUT', message('/read'), setRead],
  ['POST', message('/replay'), replayMessage],
  ['POST', message('/deliveries/([^/]{1,1024})/replay'), replayDelivery],
  ['POST', /^\/api\/compose$/, composeMessage],
  ['GET', /^\/api\/route$/, checkRoute],
  ['GET', /^\/api\/mailboxes$/, listMailboxes],
  ['GET', /^\/api\/mailboxes\/([A-Za-z0-9._-]{1,64})$/, listMailbox],
  ['GET', new RegExp(`^/api/threads/${ID}$`), getThread],
  ['GET', /^\/api\/outbox$/, listOutbox],
  ['GET', new RegExp(`^/api/outbox/${ID}/raw$`), getOutboxRaw],
  ['GET', /^\/api\/events$/, async (d, _q, res) => d.events.add(res)],
  ['GET', /^\/$/, serveIndexPage],
  ['GET', /^\/assets\/([A-Za-z0-9._-]{1,100})$/, serveAsset],
];

/** Handles one request of the dev HTTP API (see DESIGN.md and the README for the contract). */
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
    else if (err instanceof MessageQueryError) json(res, 400, { error: err.message });
    else json(res, 500, { error: err instanceof Error ? err.message : String(err) });
  }
}
