import type Database from 'better-sqlite3';
import type { ParsedMessage } from '../message/index.ts';
import { writeAttachmentRefs } from './sqlite-housekeeping.ts';
import { type StatementSource, searchDocument, writeSearchDocument } from './sqlite-search.ts';
import { json } from './stored-records.ts';

/**
 * Schema version 4's data from the rows already stored: a search document and the attachment hashes of
 * every message, read the way the store writes them (a damaged parse indexes only the envelope).
 */
export function backfillVersion4(db: Database.Database): void {
  const statements = new Map<string, Database.Statement>();
  const source: StatementSource = {
    stmt(sql) {
      let statement = statements.get(sql);
      if (!statement) {
        statement = db.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
  // In pages (keyset on rowid), so a large store's parses are never all in memory at once.
  const page = db.prepare(
    'SELECT rowid, id, mail_from, rcpt_to, parsed FROM messages WHERE rowid > ? ORDER BY rowid LIMIT 200',
  );
  let after = 0;
  for (;;) {
    const rows = page.all(after) as StoredRow[];
    if (rows.length === 0) return;
    for (const row of rows) indexRow(source, row);
    after = rows[rows.length - 1]!.rowid;
  }
}

interface StoredRow {
  rowid: number;
  id: string;
  mail_from: string;
  rcpt_to: string;
  parsed: string | null;
}

function indexRow(source: StatementSource, row: StoredRow): void {
  const parsed = json<ParsedMessage | null>(row.parsed, null);
  const envelope = { mailFrom: row.mail_from, rcptTo: json<string[]>(row.rcpt_to, []) };
  try {
    writeSearchDocument(source, row.id, searchDocument(parsed, envelope));
    if (parsed) writeAttachmentRefs(source, row.id, parsed);
  } catch {
    // a parse of another shape than today's: its envelope is still searchable
    writeSearchDocument(source, row.id, searchDocument(null, envelope));
  }
}
