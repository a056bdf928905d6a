import type Database from 'better-sqlite3';
import { SchemaVersionError } from './errors.ts';
import { backfillVersion4 } from './sqlite-backfill.ts';

/** The schema version this code writes (`PRAGMA user_version`). */
export const SQLITE_SCHEMA_VERSION = 5;

/**
 * Ordered migrations: entry `n` moves the schema from version `n` to `n + 1`; SQL, or a function for what
 * SQL alone cannot do (reading the stored JSON the way the store writes it).
 */
const migrations: Array<string | ((db: Database.Database) => void)> = [
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
  // 4: the dev page's listing (read state, filters that each walk one index newest first, full-text
  // search) and retention (which attachments stored parses reference).
  (db) => {
    db.exec(VERSION_4);
    backfillVersion4(db);
  },
  // 5: the stored parse in a table of its own. SQLite rewrites a whole row, overflow pages included, when
  // an update changes its size: with the parse in the message's row, setting the status to `processed`
  // (or the read state) rewrote the parse (about 200 KB for a 100 KB text message). `messages.parsed` stays,
  // always null.
  `
  CREATE TABLE message_parses (
    message_id TEXT PRIMARY KEY,
    parsed     TEXT NOT NULL
  );
  INSERT INTO message_parses (message_id, parsed) SELECT id, parsed FROM messages WHERE parsed IS NOT NULL;
  UPDATE messages SET parsed = NULL WHERE parsed IS NOT NULL;
  `,
];

const VERSION_4 = `
  ALTER TABLE messages ADD COLUMN read INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE messages ADD COLUMN failed_deliveries INTEGER NOT NULL DEFAULT 0;
  UPDATE messages SET failed_deliveries =
    (SELECT count(*) FROM deliveries d WHERE d.message_id = messages.id AND d.status = 'failed');
  DROP INDEX messages_status;
  CREATE INDEX messages_status ON messages (status, received_at, id);
  CREATE INDEX messages_delivery_failed ON messages (received_at, id) WHERE failed_deliveries > 0;

  ALTER TABLE mailbox_entries ADD COLUMN received_at TEXT;
  UPDATE mailbox_entries SET received_at =
    COALESCE((SELECT m.received_at FROM messages m WHERE m.id = mailbox_entries.message_id), created_at);
  CREATE INDEX mailbox_entries_newest ON mailbox_entries (mailbox, received_at, message_id);

  CREATE TABLE message_routes (
    route       TEXT NOT NULL,
    received_at TEXT NOT NULL,
    message_id  TEXT NOT NULL,
    PRIMARY KEY (route, received_at, message_id)
  ) WITHOUT ROWID;
  CREATE INDEX message_routes_message ON message_routes (message_id);
  INSERT OR IGNORE INTO message_routes (route, received_at, message_id)
    SELECT d.route, m.received_at, m.id FROM deliveries d JOIN messages m ON m.id = d.message_id;

  CREATE TABLE attachment_refs (
    message_id TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    PRIMARY KEY (message_id, sha256)
  ) WITHOUT ROWID;
  CREATE INDEX attachment_refs_sha256 ON attachment_refs (sha256);

  CREATE TABLE search_docs (
    doc        INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE
  );
  CREATE VIRTUAL TABLE message_search USING fts5 (
    subject, sender, recipients, body,
    content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
  );
`;

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
      const step = migrations[v];
      if (typeof step === 'string') db.exec(step);
      else step?.(db);
    }
    if (version !== SQLITE_SCHEMA_VERSION) db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
  });
  run.immediate();
}
