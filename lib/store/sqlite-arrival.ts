// The writes of a message's arrival in the SQLite store: the record, the trace entry, the verdicts. Each runs
// inside the caller's write transaction (`SqliteDatabase.write`).
import type { AuthVerdicts } from '../auth/index.ts';
import type { Envelope } from '../kernel/index.ts';
import { type StatementSource, searchDocument, writeSearchDocument } from './sqlite-search.ts';

/** Inserts the message's record (and its envelope's search document) unless it has one; true when it did. */
export function insertReceived(
  db: StatementSource,
  rec: { id: string; receivedAt: string; envelope: Envelope; size: number },
): boolean {
  const info = db
    .stmt(
      `INSERT INTO messages (id, received_at, mail_from, rcpt_to, size, status, remote_address, helo)
         VALUES (?, ?, ?, ?, ?, 'received', ?, ?) ON CONFLICT (id) DO NOTHING`,
    )
    .run(
      rec.id,
      rec.receivedAt,
      rec.envelope.mailFrom,
      JSON.stringify(rec.envelope.rcptTo),
      rec.size,
      rec.envelope.remoteAddress ?? null,
      rec.envelope.helo ?? null,
    );
  // searchable by its envelope until its parse replaces the document
  if (info.changes > 0) writeSearchDocument(db, rec.id, searchDocument(null, rec.envelope));
  return info.changes > 0;
}

/** Appends a trace entry after the message's last one. */
export function insertTrace(db: StatementSource, id: string, at: string, step: string, detail: string): void {
  db.stmt(
    `INSERT INTO trace (message_id, seq, at, step, detail)
       VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM trace WHERE message_id = ?), ?, ?, ?)`,
  ).run(id, id, at, step, detail);
}

export function updateAuth(db: StatementSource, id: string, auth: AuthVerdicts | null): void {
  db.stmt('UPDATE messages SET auth = ? WHERE id = ?').run(auth ? JSON.stringify(auth) : null, id);
}
