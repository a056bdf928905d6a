import type { Action } from '../../actions/index.ts';
import { actionTarget } from '../../actions/index.ts';
import { authenticationResultsHeader } from '../../auth/index.ts';
import type { MessageDetail } from '../../store/index.ts';
import { HttpError } from '../errors.ts';
import type { HttpApiDeps, RouteHandler } from './context.ts';
import { detailDeliveries } from './delivery-details.ts';
import { json, rawHeaders } from './respond.ts';

// One message: its detail, raw bytes, routing explanation, and replays (whole, or one delivery).

async function found(deps: HttpApiDeps, id: string): Promise<MessageDetail> {
  const message = await deps.store.getMessage(id);
  if (!message) throw new HttpError(404, `no message ${id}`);
  return message;
}

/** `GET /api/messages/:id` → summary + parsed, auth, trace; deliveries with key, updatedAt, attempt times. */
export const getMessage: RouteHandler = async (deps, _req, res, _url, m) => {
  const message = await found(deps, m[1]!);
  // The RFC 8601 header for our verdicts, for display: the stored bytes stay as they were received.
  const authenticationResults = message.auth
    ? authenticationResultsHeader(message.auth, deps.config.auth.authservId)
    : null;
  const deliveries = await detailDeliveries(deps.store, message);
  json(res, 200, { ...message, deliveries, authenticationResults });
};

/** `GET /api/messages/:id/raw` → the stored bytes. */
export const getRaw: RouteHandler = async (deps, _req, res, _url, m) => {
  if (!(await deps.store.hasMessage(m[1]!))) throw new HttpError(404, `no message ${m[1]}`);
  const raw = await deps.rawStore.get(m[1]!);
  res.writeHead(200, rawHeaders(raw.length));
  res.end(raw);
};

/** `mailbox support`, `handler count-orders`, `reject 550 5.7.1 …`: an action in the routing explanation. */
export function actionWords(action: Action): string {
  if (action.kind === 'reject') return `reject ${action.code} ${action.text}`;
  const target = actionTarget(action);
  return target ? `${action.kind} ${target}` : action.kind;
}

/** `GET /api/messages/:id/routing` → per envelope recipient, what the current config decides and why. */
export const getRouting: RouteHandler = async (deps, _req, res, _url, m) => {
  const message = await found(deps, m[1]!);
  const { parsed } = message;
  const input = {
    mailFrom: message.envelope.mailFrom,
    receivedAt: new Date(message.receivedAt),
    ...(message.auth ? { auth: message.auth } : {}),
    ...(parsed ? { message: { from: parsed.from, subject: parsed.subject, headers: parsed.headers } } : {}),
  };
  const seen = new Set<string>();
  const recipients = [];
  for (const rcpt of message.envelope.rcptTo) {
    if (seen.has(rcpt.toLowerCase())) continue;
    seen.add(rcpt.toLowerCase());
    const explained = deps.router.explain(rcpt, input);
    recipients.push({
      recipient: explained.recipient,
      matched: explained.matches.map((match) => ({
        route: match.route,
        params: match.params,
        actions: match.actions.map(actionWords),
      })),
      rejected: explained.rejected ?? null,
      considered: explained.considered,
    });
  }
  json(res, 200, { id: message.id, computedWith: 'current config', parsed: parsed !== null, recipients });
};

/**
 * `POST /api/messages/:id/replay` → 200 `{id, status, deliveries}` once the replay ran (the CLI's
 * `mailroom replay` reads the status); events stream meanwhile.
 */
export const replayMessage: RouteHandler = async (deps, _req, res, _url, m) => {
  const id = m[1]!;
  if (!(await deps.store.hasMessage(id))) throw new HttpError(404, `no message ${id}`);
  await deps.pipeline.replay(id);
  const message = await deps.store.getMessage(id);
  json(res, 200, { id, status: message?.status ?? null, deliveries: message?.deliveries ?? [] });
};

/** `POST /api/messages/:id/deliveries/:key/replay` → 202 `{id, key}`; the result comes as events. */
export const replayDelivery: RouteHandler = async (deps, _req, res, _url, m) => {
  const id = m[1]!;
  let key: string;
  try {
    key = decodeURIComponent(m[2]!);
  } catch {
    throw new HttpError(400, 'the delivery key is not URL-encoded text');
  }
  if (!(await deps.store.hasMessage(id))) throw new HttpError(404, `no message ${id}`);
  const delivery = await deps.store.getDelivery(key);
  if (!delivery || delivery.messageId !== id)
    throw new HttpError(404, `message ${id} has no delivery ${key}`);
  // The run outlives the request; its failures are the pipeline's to record and announce.
  deps.pipeline.replayDelivery(id, key).catch(() => {});
  json(res, 202, { id, key });
};
