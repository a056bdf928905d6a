// The delivery writes of the SQLite store. Each runs inside the caller's write transaction
// (`SqliteDatabase.write`).
import type { DeliveryRecord } from './records.ts';
import { type DeliveryRow, deliveryParameters, storedDeliveryOfRow } from './sqlite-rows.ts';
import type { StatementSource } from './sqlite-search.ts';
import { deliveryRecord } from './stored-records.ts';

const COLUMNS =
  'key, message_id, recipient, recipients, route, action, target, mailbox, params, status, attempts, error, updated_at';
const VALUES =
  '@key, @messageId, @recipient, @recipients, @route, @action, @target, @mailbox, @params, @status, @attempts, @error, @updatedAt';

/** Upserts in place, so a delivery keeps its position (creation order) in the summary. */
export function upsertDelivery(db: StatementSource, d: DeliveryRecord): void {
  db.stmt(
    `INSERT INTO deliveries (${COLUMNS}) VALUES (${VALUES})
       ON CONFLICT (key) DO UPDATE SET
         message_id = excluded.message_id, recipient = excluded.recipient, recipients = excluded.recipients,
         route = excluded.route, action = excluded.action, target = excluded.target, mailbox = excluded.mailbox,
         params = excluded.params, status = excluded.status, attempts = excluded.attempts, error = excluded.error,
         updated_at = excluded.updated_at`,
  ).run(deliveryParameters(d));
  afterDeliveryWrite(db, d, true);
}

/**
 * Inserts the delivery unless one with its key exists; returns that one (unchanged), or null when `d` was
 * inserted.
 */
export function insertDeliveryIfAbsent(db: StatementSource, d: DeliveryRecord): DeliveryRecord | null {
  const info = db
    .stmt(`INSERT INTO deliveries (${COLUMNS}) VALUES (${VALUES}) ON CONFLICT (key) DO NOTHING`)
    .run(deliveryParameters(d));
  if (info.changes === 0) {
    const row = db.stmt('SELECT * FROM deliveries WHERE key = ?').get(d.key) as DeliveryRow | undefined;
    return row ? deliveryRecord(storedDeliveryOfRow(row)) : null;
  }
  // a new delivery changes the message's count of failed ones only when it is failed itself
  afterDeliveryWrite(db, d, d.status === 'failed');
  return null;
}

function afterDeliveryWrite(db: StatementSource, d: DeliveryRecord, countFailed: boolean): void {
  // what the listing's route and failed-delivery filters walk
  db.stmt(
    `INSERT OR IGNORE INTO message_routes (route, received_at, message_id)
       SELECT ?, received_at, id FROM messages WHERE id = ?`,
  ).run(d.route, d.messageId);
  if (!countFailed) return;
  // only when the count changes: rewriting the message's record costs a page
  db.stmt(
    `UPDATE messages SET failed_deliveries = f.n
       FROM (SELECT count(*) AS n FROM deliveries WHERE message_id = @id AND status = 'failed') AS f
     WHERE id = @id AND failed_deliveries <> f.n`,
  ).run({ id: d.messageId });
}
