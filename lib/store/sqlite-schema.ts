import type Database from 'better-sqlite3';
import { SchemaVersionError } from './errors.ts';

/** The schema version this code writes (`PRAGMA user_version`). */
export const SQLITE_SCHEMA_VERSION = 3;

/** Ordered migrations: entry `n` moves the schema from version `n` to `n + 1`. */
const migrations: string[] = [
  `
  CREATE TABLE messages (
    id          TEXT PRIMARY KEY,
    received_at TEXT NOT NULL,
    mail_from   TEXT NOT NULL,
    rcpt_to     TEXT NOT NULL,
    size        INTEGER NOT NULL,
    status      TEXT NOT NULL,
    subject     TEXT,
    "from"      TEXT,
    parsed      TEXT,
    auth        TEXT
  );
  CREATE INDEX messages_newest ON messages (received_at DESC, id DESC);
  CREATE INDEX messages_status ON messages (status);

  CREATE TABLE deliveries (
    key        TEXT PRIMARY KEY,
    message_id TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    recipients TEXT NOT NULL,
    route      TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT,
    mailbox    TEXT,
    params     TEXT NOT NULL,
    status     TEXT NOT NULL,
    attempts   INTEGER NOT NULL,
    error      TEXT,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX deliveries_message ON deliveries (message_id);
  CREATE INDEX deliveries_status ON deliveries (status);

  CREATE TABLE mailbox_entries (
    mailbox    TEXT NOT NULL,
    message_id TEXT NOT NULL,
    data       TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (mailbox, message_id)
  );
  CREATE INDEX mailbox_entries_message ON mailbox_entries (message_id);
  CREATE INDEX mailbox_entries_created ON mailbox_entries (mailbox, created_at);

  CREATE TABLE trace (
    message_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    at         TEXT NOT NULL,
    step       TEXT NOT NULL,
    detail     TEXT NOT NULL,
    PRIMARY KEY (message_id, seq)
  );
  `,
  // 2: threads (thread id and the keys it is looked up by) and the outbox of sent replies.
  `
  ALTER TABLE messages ADD COLUMN thread_id TEXT;
  ALTER TABLE messages ADD COLUMN header_message_id TEXT;
  ALTER TABLE messages ADD COLUMN thread_index_root TEXT;
  ALTER TABLE messages ADD COLUMN subject_key TEXT;
  UPDATE messages SET
      thread_id = json_extract(parsed, '$.thread.id'),
      header_message_id = json_extract(parsed, '$.messageId')
    WHERE parsed IS NOT NULL AND json_valid(parsed);
  CREATE INDEX messages_thread ON messages (thread_id, received_at, id);
  CREATE INDEX messages_header_message_id ON messages (header_message_id);
  CREATE INDEX messages_thread_index_root ON messages (thread_index_root);
  CREATE INDEX messages_subject_key ON messages (subject_key, received_at);

  CREATE TABLE outbox (
    id          TEXT PRIMARY KEY,
    message_id  TEXT,
    header_message_id TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    envelope    TEXT NOT NULL,
    subject     TEXT,
    transport   TEXT NOT NULL,
    raw         BLOB NOT NULL
  );
  CREATE INDEX outbox_message ON outbox (message_id);
  CREATE INDEX outbox_created ON outbox (created_at, id);
  `,
  // 3: the SMTP client's address and HELO name, which SPF is checked against.
  `
  ALTER TABLE messages ADD COLUMN remote_address TEXT;
  ALTER TABLE messages ADD COLUMN helo TEXT;
  `,
];

/**
 * Brings the database's schema to {@link SQLITE_SCHEMA_VERSION}, in one immediate transaction (another
 * process opening the same file waits).
 * @throws SchemaVersionError when a newer Mailroom wrote it.
 */
export function migrate(db: Database.Database): void {
  const run = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SQLITE_SCHEMA_VERSION) throw new SchemaVersionError(version, SQLITE_SCHEMA_VERSION);
    for (let v = version; v < SQLITE_SCHEMA_VERSION; v++) {
      const sql = migrations[v];
      if (sql) db.exec(sql);
    }
    if (version !== SQLITE_SCHEMA_VERSION) db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
  });
  run.immediate();
}
