import type { SqliteDatabase } from './sqlite-database.ts';
import type { FiledMessage, SyncThreadStorage, ThreadLookup } from './thread-filing.ts';

/** The lookups' queries: the thread of the first stored message (other than `?2`) that has one. */
const FIND_THREAD: Record<ThreadLookup['by'], string> = {
  messageIds: `SELECT m.thread_id FROM json_each(?) j JOIN messages m ON m.header_message_id = j.value
      WHERE m.id <> ? AND m.thread_id IS NOT NULL ORDER BY j.key LIMIT 1`,
  threadIndexRoot: `SELECT thread_id FROM messages WHERE thread_index_root = ? AND id <> ? AND thread_id IS NOT NULL
      ORDER BY received_at, id LIMIT 1`,
  subjectKey: `SELECT thread_id FROM messages WHERE subject_key = ? AND id <> ? AND thread_id IS NOT NULL
      ORDER BY received_at DESC, id DESC LIMIT 1`,
};

function lookupValue(lookup: ThreadLookup): string {
  if (lookup.by === 'messageIds') return JSON.stringify(lookup.ids);
  return lookup.by === 'threadIndexRoot' ? lookup.root : lookup.subjectKey;
}

/**
 * The threading primitives of the SQLite store (`thread-filing.ts` holds the policy). Synchronous: the
 * store runs a whole filing inside one write transaction. The thread lives in the `thread_id` column and
 * in the stored parse (`$.thread.id`), both kept in step.
 */
export function sqliteThreadStorage(db: SqliteDatabase): SyncThreadStorage {
  return {
    findThread(lookup: ThreadLookup, exceptId: string): string | null {
      const row = db.stmt(FIND_THREAD[lookup.by]).get(lookupValue(lookup), exceptId) as
        | { thread_id: string }
        | undefined;
      return row ? row.thread_id : null;
    },

    saveFiled({ id, threadId, parsed, keys }: FiledMessage): boolean {
      const info = db
        .stmt(
          `UPDATE messages SET parsed = ?, subject = ?, "from" = ?, thread_id = ?, header_message_id = ?,
               thread_index_root = ?, subject_key = ?
             WHERE id = ?`,
        )
        .run(
          JSON.stringify(parsed),
          parsed.subject,
          parsed.from ? JSON.stringify(parsed.from) : null,
          threadId,
          keys.messageId,
          keys.threadIndexRoot,
          keys.subjectKey,
          id,
        );
      return info.changes > 0;
    },

    moveThread(from: string, to: string): void {
      db.stmt(
        `UPDATE messages SET thread_id = @to,
             parsed = CASE WHEN json_valid(parsed) THEN json_set(parsed, '$.thread.id', @to) ELSE parsed END
           WHERE thread_id = @from`,
      ).run({ from, to });
    },
  };
}
