// The SQL of a message listing (`MessageQuery`). Each filter has an index that lists its messages newest
// first, so a page is one index walk of `limit` rows plus checks, however many messages there are: the
// listing is driven by the most selective of them (mailbox, route, failed deliveries, status, else the
// newest messages), the others are checked per row; paging is a keyset on (received_at, id), never OFFSET.
import { MessageQueryError } from './errors.ts';
import type { MessageQuery } from './message-store.ts';
import type { MessageStatus } from './records.ts';
import { SUMMARY_COLUMNS } from './sqlite-rows.ts';
import { searchQuery } from './sqlite-search.ts';
import { parseMessageCursor } from './stored-records.ts';

/** Most rows one page may have. */
export const MAX_PAGE = 500;
const STATUSES: readonly MessageStatus[] = ['received', 'processing', 'processed', 'failed'];

export interface ListingSql {
  sql: string;
  params: Record<string, string | number>;
}

type Filter = 'mailbox' | 'route' | 'deliveryFailed' | 'status';

/** Per filter: the table that lists its messages newest first by an index, and the check of one row. */
const FILTERS: Record<Filter, { from: string; at: string; id: string; drive: string; check: string }> = {
  mailbox: {
    from: 'mailbox_entries e JOIN messages m ON m.id = e.message_id',
    at: 'e.received_at',
    id: 'e.message_id',
    drive: 'e.mailbox = @mailbox',
    check: 'EXISTS (SELECT 1 FROM mailbox_entries e2 WHERE e2.message_id = m.id AND e2.mailbox = @mailbox)',
  },
  route: {
    from: 'message_routes r JOIN messages m ON m.id = r.message_id',
    at: 'r.received_at',
    id: 'r.message_id',
    drive: 'r.route = @route',
    check: 'EXISTS (SELECT 1 FROM message_routes r2 WHERE r2.message_id = m.id AND r2.route = @route)',
  },
  // partial index `messages_delivery_failed`
  deliveryFailed: {
    from: 'messages m',
    at: 'm.received_at',
    id: 'm.id',
    drive: 'm.failed_deliveries > 0',
    check: 'm.failed_deliveries > 0',
  },
  // index `messages_status` (status, received_at, id)
  status: {
    from: 'messages m',
    at: 'm.received_at',
    id: 'm.id',
    drive: 'm.status = @status',
    check: 'm.status = @status',
  },
};

/**
 * The statement listing `query`'s page, newest first.
 * @throws MessageQueryError naming the field when the cursor is not one or the status unknown.
 */
export function listingSql(query: MessageQuery): ListingSql {
  const params = queryParams(query);
  const given = (Object.keys(FILTERS) as Filter[]).filter((f) =>
    f === 'deliveryFailed' ? query.deliveryFailed === true : query[f] !== undefined,
  );
  const driver = given[0] ? FILTERS[given[0]] : { from: 'messages m', at: 'm.received_at', id: 'm.id' };
  const where = given.map((f, i) => (i === 0 ? FILTERS[f].drive : FILTERS[f].check));
  if (params.beforeAt !== undefined) where.push(`(${driver.at}, ${driver.id}) < (@beforeAt, @beforeId)`);
  if (params.match !== undefined) {
    where.push(`m.id IN (SELECT d.message_id FROM message_search s JOIN search_docs d ON d.doc = s.rowid
        WHERE message_search MATCH @match)`);
  }
  const sql = `SELECT ${SUMMARY_COLUMNS} FROM ${driver.from}
    ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY ${driver.at} DESC, ${driver.id} DESC LIMIT @limit`;
  return { sql, params };
}

/** The named parameters of the query's filters (only those given). */
function queryParams(query: MessageQuery): ListingSql['params'] {
  const params: ListingSql['params'] = {
    limit: Math.min(MAX_PAGE, Math.max(0, Math.floor(query.limit ?? 100))),
  };
  if (query.status !== undefined) {
    if (!STATUSES.includes(query.status)) {
      throw new MessageQueryError('status', `must be one of ${STATUSES.join(', ')}`);
    }
    params.status = query.status;
  }
  if (query.mailbox !== undefined) params.mailbox = query.mailbox;
  if (query.route !== undefined) params.route = query.route;
  if (query.before !== undefined) {
    const cursor = parseMessageCursor(query.before);
    if (!cursor) throw new MessageQueryError('before', 'is not a cursor this store gave (nextCursor)');
    params.beforeAt = cursor.receivedAt;
    params.beforeId = cursor.id;
  }
  const match = query.search === undefined ? null : searchQuery(query.search);
  if (match !== null) params.match = match;
  return params;
}
