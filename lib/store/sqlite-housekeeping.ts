// What the SQLite store does for the dev page and retention (`MessageHousekeeping`): deleting a message's
// every record, mailbox counts, which messages retention removes, and which attachments are still used.
// Synchronous, on the store's connection: the store runs each inside its own read or write transaction.
import type { ParsedMessage } from '../message/index.ts';
import { deleteSearchDocument, type StatementSource } from './sqlite-search.ts';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Replaces the attachment hashes a message's parse lists (`attachment_refs`). */
export function writeAttachmentRefs(db: StatementSource, messageId: string, parsed: ParsedMessage): void {
  db.stmt('DELETE FROM attachment_refs WHERE message_id = ?').run(messageId);
  for (const attachment of parsed.attachments) {
    const sha256 = String(attachment.sha256).toLowerCase();
    if (!SHA256_HEX.test(sha256)) continue;
    db.stmt('INSERT OR IGNORE INTO attachment_refs (message_id, sha256) VALUES (?, ?)').run(
      messageId,
      sha256,
    );
  }
}

/** The tables holding a message's records besides `messages`, by the column naming the message. */
const RECORD_TABLES = [
  'message_parses',
  'deliveries',
  'trace',
  'mailbox_entries',
  'message_routes',
  'attachment_refs',
  // replies the message caused: sent already, kept for display only
  'outbox',
] as const;

/** Deletes every record of a message (in the caller's transaction). False when it had no record. */
export function deleteMessageRecords(db: StatementSource, id: string): boolean {
  deleteSearchDocument(db, id);
  for (const table of RECORD_TABLES) db.stmt(`DELETE FROM ${table} WHERE message_id = ?`).run(id);
  return db.stmt('DELETE FROM messages WHERE id = ?').run(id).changes > 0;
}

export function listMailboxes(db: StatementSource): Array<{ name: string; count: number; unread: number }> {
  return db
    .stmt(
      `SELECT e.mailbox AS name, count(*) AS count, total(m.read = 0) AS unread
         FROM mailbox_entries e JOIN messages m ON m.id = e.message_id
         GROUP BY e.mailbox ORDER BY e.mailbox`,
    )
    .all()
    .map((row) => {
      const r = row as { name: string; count: number; unread: number };
      return { name: r.name, count: r.count, unread: Math.round(r.unread) };
    });
}

/**
 * Ids of finished messages (`processed` or `failed`; never one still in the pipeline) received before
 * `receivedBefore` or beyond the newest `keepNewest` (counting every message), oldest first.
 */
export function listExpired(
  db: StatementSource,
  opts: { receivedBefore?: string; keepNewest?: number },
): string[] {
  const conditions: string[] = [];
  const params: Record<string, string> = {};
  if (opts.receivedBefore !== undefined) {
    conditions.push('received_at < @before');
    params.before = opts.receivedBefore;
  }
  if (opts.keepNewest !== undefined) {
    const keep = Math.max(0, Math.floor(opts.keepNewest));
    // the newest message beyond the ones kept: it and everything older go
    const edge = db
      .stmt('SELECT received_at, id FROM messages ORDER BY received_at DESC, id DESC LIMIT 1 OFFSET ?')
      .get(keep) as { received_at: string; id: string } | undefined;
    if (edge) {
      conditions.push('(received_at, id) <= (@edgeAt, @edgeId)');
      params.edgeAt = edge.received_at;
      params.edgeId = edge.id;
    }
  }
  if (conditions.length === 0) return [];
  const rows = db
    .stmt(
      `SELECT id FROM messages WHERE status IN ('processed', 'failed') AND (${conditions.join(' OR ')})
         ORDER BY received_at, id`,
    )
    .all(params) as { id: string }[];
  return rows.map((r) => r.id);
}

export function referencedAttachments(db: StatementSource, excluding: readonly string[] = []): Set<string> {
  const rows = db
    .stmt(
      `SELECT DISTINCT sha256 FROM attachment_refs
         WHERE message_id NOT IN (SELECT value FROM json_each(?))`,
    )
    .all(JSON.stringify(excluding)) as { sha256: string }[];
  return new Set(rows.map((r) => r.sha256));
}
