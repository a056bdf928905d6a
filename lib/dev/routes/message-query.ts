import { type MessageQuery, type MessageStatus, parseMessageCursor } from '../../store/index.ts';
import { HttpError } from '../errors.ts';
import { MAX_LIMIT } from './respond.ts';

/** How many messages a listing answers when `?limit` is absent. */
export const DEFAULT_LIMIT = 100;

const PARAMS = ['mailbox', 'status', 'route', 'failed', 'q', 'limit', 'before'] as const;
const STATUSES: readonly MessageStatus[] = ['received', 'processing', 'processed', 'failed'];
const FAILED: Record<string, boolean | undefined> = {
  '1': true,
  true: true,
  '0': undefined,
  false: undefined,
};
/** Longest search text and mailbox/route name taken: longer is no search a person types. */
const MAX_TEXT = 500;
const CONTROL = /[\u0000-\u001f\u007f]/;

function one(url: URL, name: (typeof PARAMS)[number]): string | undefined {
  const values = url.searchParams.getAll(name);
  if (values.length > 1) throw new HttpError(400, `give at most one ${name}=`);
  return values[0];
}

function text(url: URL, name: 'mailbox' | 'route' | 'q'): string | undefined {
  const value = one(url, name);
  if (value === undefined || value.trim() === '') return undefined;
  if (value.length > MAX_TEXT || CONTROL.test(value)) {
    throw new HttpError(400, `${name}= must be at most ${MAX_TEXT} characters without control characters`);
  }
  return name === 'q' ? value.trim() : value;
}

/**
 * The filters of `GET /api/messages` (and `DELETE /api/messages`):
 * `mailbox, status, route, failed, q, limit, before`. Any other parameter, or a value outside what one
 * allows, is a 400 that names the parameter and what it takes.
 */
export function messageQuery(url: URL): MessageQuery & { limit: number } {
  for (const name of url.searchParams.keys()) {
    if (!(PARAMS as readonly string[]).includes(name)) {
      throw new HttpError(
        400,
        `unknown parameter ${JSON.stringify(name.slice(0, 50))}: use ${PARAMS.join(', ')}`,
      );
    }
  }
  const query: MessageQuery & { limit: number } = { limit: DEFAULT_LIMIT };
  const mailbox = text(url, 'mailbox');
  if (mailbox !== undefined) query.mailbox = mailbox;
  const route = text(url, 'route');
  if (route !== undefined) query.route = route;
  const search = text(url, 'q');
  if (search !== undefined) query.search = search;
  const status = one(url, 'status');
  if (status !== undefined && status !== '') {
    if (!(STATUSES as readonly string[]).includes(status)) {
      throw new HttpError(400, `status= must be one of ${STATUSES.join(', ')}`);
    }
    query.status = status as MessageStatus;
  }
  const failed = one(url, 'failed');
  if (failed !== undefined && failed !== '') {
    if (!(failed in FAILED)) throw new HttpError(400, 'failed= must be 1 or 0 (true or false)');
    if (FAILED[failed]) query.deliveryFailed = true;
  }
  const limit = one(url, 'limit');
  if (limit !== undefined) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1)
      throw new HttpError(400, `limit= must be an integer from 1 to ${MAX_LIMIT}`);
    query.limit = Math.min(n, MAX_LIMIT);
  }
  const before = one(url, 'before');
  if (before !== undefined && before !== '') {
    if (before.length > 1000 || parseMessageCursor(before) === null) {
      throw new HttpError(400, 'before= must be a nextCursor value from an earlier listing');
    }
    query.before = before;
  }
  return query;
}
