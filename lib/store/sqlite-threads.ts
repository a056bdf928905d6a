import type { SqliteDatabase } from './sqlite-database.ts';
import { storedParseJson } from './sqlite-rows.ts';
import type { FiledMessage, SyncThreadStorage, ThreadLookup } from './thread-filing.ts';

/** The query of a lookup: the thread of the first stored message (other than the second parameter) with one. */
function findThreadSql(lookup: ThreadLookup): string {
  if (lookup.by === 'messageIds') {
    return `SELECT m.thread_id FROM json_each(?) j JOIN messages m ON m.header_message_id = j.value
      WHERE m.id <> ? AND m.thread_id IS NOT NULL ORDER BY j.key LIMIT 1`;
  }
  const column = lookup.by === 'threadIndexRoot' ? 'thread_index_root' : 'subject_key';
  const order = lookup.pick === 'oldest' ? '' : ' DESC';
  return `SELECT thread_id FROM messages WHERE ${column} = ? AND id <> ? AND thread_id IS NOT NULL
      ORDER BY received_at${order}, id${order} LIMIT 1`;
}

/**
 * The threading primitives of the SQLite store (`thread-filing.ts` holds the policy). Synchronous: the
 * store runs a whole filing inside one write transaction. The thread lives in the `thread_id` column and
 * in the stored parse (`$.thread.id`), both kept in step.
 */
export function sqliteThreadStorage(db: SqliteDatabase): SyncThreadStorage {
  return {
    findThread(lookup: ThreadLookup, exceptId: string): string | null {
      const row = db
        .stmt(findThreadSql(lookup))
        .get(lookup.by === 'messageIds' ? JSON.stringify(lookup.ids) : lookup.value, exceptId) as
        | { thread_id: string }
        | undefined;
      return row ? row.thread_id : null;
    },

    saveFiled({ id, threadId, parsed, keys }: FiledMessage): boolean {
      const info = db
        .stmt(
          `UPDATE messages SET subject = ?, "from" = ?, thread_id = ?, header_message_id = ?,
               thread_index_root = ?, subject_key = ?
             WHERE id = ?`,
        )
        .run(
          parsed.subject,
          parsed.from ? JSON.stringify(parsed.from) : null,
          threadId,
          keys.messageId,
          keys.threadIndexRoot,
          keys.subjectKey,
          id,
        );
      if (info.changes === 0) return false;
      // in its own table: later updates of the message's row (status, read state) do not rewrite it
      db.stmt(
        `INSERT INTO message_parses (message_id, parsed) VALUES (?, ?)
           ON CONFLICT (message_id) DO UPDATE SET parsed = excluded.parsed`,
      ).run(id, storedParseJson(parsed));
      return true;
    },

    moveThread(from: string, to: string): void {
      db.stmt(
        `UPDATE message_parses SET parsed = json_set(parsed, '$.thread.id', @to)
           WHERE json_valid(parsed) AND message_id IN (SELECT id FROM messages WHERE thread_id = @from)`,
      ).run({ from, to });
      db.stmt('UPDATE messages SET thread_id = @to WHERE thread_id = @from').run({ from, to });
    },
  };
}
