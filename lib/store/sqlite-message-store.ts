import Database from 'better-sqlite3';
import type { AuthVerdicts } from '../auth/verdicts.ts';
import type { Envelope } from '../kernel/index.ts';
import type { Address, ParsedMessage } from '../message/types.ts';
import { threadKeys } from './thread-keys.ts';
import type {
  DeliveryRecord,
  DeliveryStatus,
  MailboxEntry,
  MessageDetail,
  MessageStatus,
  MessageStore,
  MessageSummary,
  OutboxEntry,
  OutboxSummary,
  TraceEntry,
} from './types.ts';

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

/** The database was written by a newer Mailroom than this one. */
export class SchemaVersionError extends Error {
  override readonly name = 'SchemaVersionError';
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(`message store schema version ${found} is newer than this Mailroom supports (${supported})`);
  }
}

export interface SqliteMessageStoreOptions {
  /**
   * @deprecated Ignored: the store always runs `synchronous = FULL`. FULL syncs the WAL on every commit,
   * so a delivery recorded as `delivered` survives a power loss; with NORMAL the last commits can vanish
   * and a webhook or handler that already ran would run again (exactly-once effects depend on it).
   */
  synchronous?: 'full' | 'normal';
  /** How long a write waits for another process holding the lock (the CLI, a second server). @default 5000 */
  busyTimeoutMs?: number;
  /** Clock for trace entries. @default () => new Date() */
  now?: () => Date;
}

interface MessageRow {
  id: string;
  received_at: string;
  mail_from: string;
  rcpt_to: string;
  size: number;
  status: string;
  subject: string | null;
  from: string | null;
  thread_id: string | null;
  remote_address: string | null;
  helo: string | null;
  parsed?: string | null;
  auth?: string | null;
}

interface DeliveryRow {
  key: string;
  message_id: string;
  recipient: string;
  recipients: string;
  route: string;
  action: string;
  target: string | null;
  mailbox: string | null;
  params: string;
  status: string;
  attempts: number;
  error: string | null;
  updated_at: string;
}

interface OutboxRow {
  id: string;
  message_id: string | null;
  header_message_id: string;
  created_at: string;
  envelope: string;
  subject: string | null;
  transport: string;
  raw?: Buffer;
  size?: number;
}

interface MailboxRow {
  mailbox: string;
  message_id: string;
  data: string | null;
  created_at: string;
}

const SUMMARY_COLUMNS =
  'm.id, m.received_at, m.mail_from, m.rcpt_to, m.size, m.status, m.subject, m."from", m.thread_id, m.remote_address, m.helo';

/** Parses JSON written by this store; a damaged cell reads as `fallback` rather than failing a listing. */
function json<T>(text: string | null | undefined, fallback: T): T {
  if (text == null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function toRecord(row: DeliveryRow): DeliveryRecord {
  const rec: DeliveryRecord = {
    key: row.key,
    messageId: row.message_id,
    recipient: row.recipient,
    recipients: json<string[]>(row.recipients, [row.recipient]),
    route: row.route,
    action: row.action,
    params: json<Record<string, string>>(row.params, {}),
    status: row.status as DeliveryStatus,
    attempts: row.attempts,
    updatedAt: row.updated_at,
  };
  if (row.target != null) rec.target = row.target;
  if (row.mailbox != null) rec.mailbox = row.mailbox;
  if (row.error != null) rec.error = row.error;
  return rec;
}

function toSummaryDelivery(row: DeliveryRow): MessageSummary['deliveries'][number] {
  const d: MessageSummary['deliveries'][number] = {
    recipient: row.recipient,
    route: row.route,
    action: row.action,
    params: json<Record<string, string>>(row.params, {}),
    status: row.status as DeliveryStatus,
    attempts: row.attempts,
  };
  if (row.mailbox != null) d.mailbox = row.mailbox;
  if (row.error != null) d.error = row.error;
  return d;
}

function toSummary(row: MessageRow, deliveries: DeliveryRow[]): MessageSummary {
  const envelope: MessageSummary['envelope'] = {
    mailFrom: row.mail_from,
    rcptTo: json<string[]>(row.rcpt_to, []),
  };
  if (row.remote_address != null) envelope.remoteAddress = row.remote_address;
  if (row.helo != null) envelope.helo = row.helo;
  return {
    id: row.id,
    receivedAt: row.received_at,
    envelope,
    subject: row.subject,
    from: json<Address | null>(row.from, null),
    status: row.status as MessageStatus,
    size: row.size,
    threadId: row.thread_id,
    deliveries: deliveries.map(toSummaryDelivery),
  };
}

/**
 * The local {@link MessageStore}: one SQLite file (WAL mode) via better-sqlite3.
 * Safe to open from several processes at once (the dev server and `mailroom replay`).
 */
export class SqliteMessageStore implements MessageStore {
  readonly #db: Database.Database;
  /** Prepared statements by SQL text: preparing is costlier than running a small statement. */
  readonly #statements = new Map<string, Database.Statement>();
  #pending: Array<{ run: () => unknown; resolve: (value: unknown) => void; reject: (err: unknown) => void }> =
    [];
  #flushScheduled = false;
  /** Runs writes in one transaction. */
  readonly #batch: (runs: Array<() => unknown>) => unknown[];
  /** Runs one write in its own transaction. */
  readonly #single: (run: () => unknown) => unknown;
  readonly #now: () => Date;

  /** @param file path of the database file, or `':memory:'`. */
  constructor(file: string, options: SqliteMessageStoreOptions = {}) {
    this.#now = options.now ?? (() => new Date());
    this.#db = new Database(file);
    this.#batch = this.#db.transaction((runs: Array<() => unknown>) => runs.map((run) => run()));
    this.#single = this.#db.transaction((run: () => unknown) => run());
    try {
      this.#db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
      this.#db.pragma('foreign_keys = ON');
      this.#migrate();
    } catch (err) {
      this.#db.close();
      throw err;
    }
  }

  /** The durability settings in force on this connection, read back from SQLite. */
  durability(): { journalMode: string; synchronous: string } {
    const levels = ['off', 'normal', 'full', 'extra'];
    const level = this.#db.pragma('synchronous', { simple: true }) as number;
    return {
      journalMode: String(this.#db.pragma('journal_mode', { simple: true })),
      synchronous: levels[level] ?? String(level),
    };
  }

  #migrate(): void {
    const migrate = this.#db.transaction(() => {
      const version = this.#db.pragma('user_version', { simple: true }) as number;
      if (version > SQLITE_SCHEMA_VERSION) throw new SchemaVersionError(version, SQLITE_SCHEMA_VERSION);
      for (let v = version; v < SQLITE_SCHEMA_VERSION; v++) {
        const sql = migrations[v];
        if (sql) this.#db.exec(sql);
      }
      if (version !== SQLITE_SCHEMA_VERSION) this.#db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
    });
    migrate.immediate();
  }

  recordReceived(rec: { id: string; receivedAt: string; envelope: Envelope; size: number }): Promise<void> {
    return this.#write(() => {
      this.#stmt(
        `INSERT INTO messages (id, received_at, mail_from, rcpt_to, size, status, remote_address, helo)
           VALUES (?, ?, ?, ?, ?, 'received', ?, ?) ON CONFLICT (id) DO NOTHING`,
      ).run(
        rec.id,
        rec.receivedAt,
        rec.envelope.mailFrom,
        JSON.stringify(rec.envelope.rcptTo),
        rec.size,
        rec.envelope.remoteAddress ?? null,
        rec.envelope.helo ?? null,
      );
    });
  }

  saveParsed(id: string, parsed: ParsedMessage): Promise<{ threadId: string }> {
    return this.#write(() => {
      const keys = threadKeys(parsed);
      const threadId = this.#findThread(id, keys) ?? parsed.thread.id;
      this.#stmt(
        `UPDATE messages SET parsed = ?, subject = ?, "from" = ?, thread_id = ?, header_message_id = ?,
             thread_index_root = ?, subject_key = ?
           WHERE id = ?`,
      ).run(
        JSON.stringify({ ...parsed, thread: { id: threadId } }),
        parsed.subject,
        parsed.from ? JSON.stringify(parsed.from) : null,
        threadId,
        keys.messageId,
        keys.threadIndexRoot,
        keys.subjectKey,
        id,
      );
      if (keys.rootedHere !== null && keys.rootedHere !== threadId) {
        // replies that arrived before this message started a thread named after it: they belong to ours
        this.#stmt(
          `UPDATE messages SET thread_id = @threadId,
               parsed = CASE WHEN json_valid(parsed) THEN json_set(parsed, '$.thread.id', @threadId) ELSE parsed END
             WHERE thread_id = @rootedHere`,
        ).run({ threadId, rootedHere: keys.rootedHere });
      }
      return { threadId };
    });
  }

  /** The thread of a stored message this one belongs with, or null (see {@link MessageStore.saveParsed}). */
  #findThread(id: string, keys: ReturnType<typeof threadKeys>): string | null {
    if (keys.lookupIds.length > 0) {
      const byId = this.#stmt(
        `SELECT m.thread_id FROM json_each(?) j JOIN messages m ON m.header_message_id = j.value
           WHERE m.id <> ? AND m.thread_id IS NOT NULL ORDER BY j.key LIMIT 1`,
      ).get(JSON.stringify(keys.lookupIds), id) as { thread_id: string } | undefined;
      if (byId) return byId.thread_id;
    }
    if (keys.threadIndexRoot !== null) {
      const byIndex = this.#stmt(
        `SELECT thread_id FROM messages WHERE thread_index_root = ? AND id <> ? AND thread_id IS NOT NULL
           ORDER BY received_at, id LIMIT 1`,
      ).get(keys.threadIndexRoot, id) as { thread_id: string } | undefined;
      if (byIndex) return byIndex.thread_id;
    }
    // Only a reply that names no earlier message at all falls back to subject + participants.
    const unreferenced = keys.lookupIds.length === (keys.messageId ? 1 : 0);
    if (unreferenced && keys.prefixedSubject && keys.subjectKey !== null) {
      const bySubject = this.#stmt(
        `SELECT thread_id FROM messages WHERE subject_key = ? AND id <> ? AND thread_id IS NOT NULL
           ORDER BY received_at DESC, id DESC LIMIT 1`,
      ).get(keys.subjectKey, id) as { thread_id: string } | undefined;
      if (bySubject) return bySubject.thread_id;
    }
    return null;
  }

  saveAuth(id: string, auth: AuthVerdicts | null): Promise<void> {
    return this.#write(() => {
      this.#stmt('UPDATE messages SET auth = ? WHERE id = ?').run(auth ? JSON.stringify(auth) : null, id);
    });
  }

  setStatus(id: string, status: MessageStatus): Promise<void> {
    return this.#write(() => {
      this.#stmt('UPDATE messages SET status = ? WHERE id = ?').run(status, id);
    });
  }

  async getDelivery(key: string): Promise<DeliveryRecord | null> {
    this.#flush();
    const row = this.#stmt('SELECT * FROM deliveries WHERE key = ?').get(key) as DeliveryRow | undefined;
    return row ? toRecord(row) : null;
  }

  /** Upserts in place, so a delivery keeps its position (creation order) in the summary. */
  putDelivery(d: DeliveryRecord): Promise<void> {
    return this.#write(() => {
      this.#stmt(
        `INSERT INTO deliveries
             (key, message_id, recipient, recipients, route, action, target, mailbox, params, status, attempts, error, updated_at)
           VALUES (@key, @messageId, @recipient, @recipients, @route, @action, @target, @mailbox, @params, @status, @attempts, @error, @updatedAt)
           ON CONFLICT (key) DO UPDATE SET
             message_id = excluded.message_id, recipient = excluded.recipient, recipients = excluded.recipients,
             route = excluded.route, action = excluded.action, target = excluded.target, mailbox = excluded.mailbox,
             params = excluded.params, status = excluded.status, attempts = excluded.attempts, error = excluded.error,
             updated_at = excluded.updated_at`,
      ).run({
        key: d.key,
        messageId: d.messageId,
        recipient: d.recipient,
        recipients: JSON.stringify(d.recipients),
        route: d.route,
        action: d.action,
        target: d.target ?? null,
        mailbox: d.mailbox ?? null,
        params: JSON.stringify(d.params),
        status: d.status,
        attempts: d.attempts,
        error: d.error ?? null,
        updatedAt: d.updatedAt,
      });
    });
  }

  /** Every delivery of one message, in creation order. */
  async listDeliveries(messageId: string): Promise<DeliveryRecord[]> {
    this.#flush();
    const rows = this.#stmt('SELECT * FROM deliveries WHERE message_id = ? ORDER BY rowid').all(
      messageId,
    ) as DeliveryRow[];
    return rows.map(toRecord);
  }

  putMailboxEntry(entry: MailboxEntry): Promise<boolean> {
    return this.#write(() => {
      const info = this.#stmt(
        `INSERT INTO mailbox_entries (mailbox, message_id, data, created_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (mailbox, message_id) DO NOTHING`,
      ).run(entry.mailbox, entry.messageId, entry.data ? JSON.stringify(entry.data) : null, entry.createdAt);
      return info.changes > 0;
    });
  }

  /** Oldest first (the order messages arrived in the mailbox). */
  async listMailboxEntries(mailbox: string): Promise<MailboxEntry[]> {
    this.#flush();
    const rows = this.#stmt('SELECT * FROM mailbox_entries WHERE mailbox = ? ORDER BY created_at, rowid').all(
      mailbox,
    ) as MailboxRow[];
    return rows.map((r) => ({
      mailbox: r.mailbox,
      messageId: r.message_id,
      data: json<Record<string, unknown> | null>(r.data, null),
      createdAt: r.created_at,
    }));
  }

  /**
   * Writes are batched: everything written during one turn of the event loop commits in one transaction
   * (if one write fails, the batch is rolled back and each write runs alone, so it fails alone). Reads flush first, so a read always
   * sees every earlier write. Committing 20 concurrent sessions' records at once costs about what one costs.
   */
  #write<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#pending;
    if (batch.length === 0 || !this.#db.open) return;
    this.#pending = [];
    let values: unknown[];
    try {
      values = this.#batch(batch.map((op) => op.run));
    } catch {
      // One write failed and rolled the batch back: run each alone, so it fails alone.
      for (const op of batch) {
        try {
          op.resolve(this.#single(op.run));
        } catch (err) {
          op.reject(err);
        }
      }
      return;
    }
    for (const [i, op] of batch.entries()) op.resolve(values[i]);
  }

  #stmt(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  addTrace(id: string, step: string, detail: string): Promise<void> {
    return this.#write(() => {
      this.#stmt(
        `INSERT INTO trace (message_id, seq, at, step, detail)
           VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM trace WHERE message_id = ?), ?, ?, ?)`,
      ).run(id, id, this.#now().toISOString(), step, detail);
    });
  }

  async getMessage(id: string): Promise<MessageDetail | null> {
    this.#flush();
    const row = this.#stmt(`SELECT ${SUMMARY_COLUMNS}, m.parsed, m.auth FROM messages m WHERE m.id = ?`).get(
      id,
    ) as MessageRow | undefined;
    if (!row) return null;
    const deliveries = this.#stmt('SELECT * FROM deliveries WHERE message_id = ? ORDER BY rowid').all(
      id,
    ) as DeliveryRow[];
    const trace = this.#stmt('SELECT at, step, detail FROM trace WHERE message_id = ? ORDER BY seq').all(
      id,
    ) as TraceEntry[];
    return {
      ...toSummary(row, deliveries),
      parsed: json<ParsedMessage | null>(row.parsed, null),
      auth: json<AuthVerdicts | null>(row.auth, null),
      trace,
    };
  }

  /**
   * Newest first (`receivedAt`, then id, descending).
   * @param opts.mailbox only messages held by this mailbox.
   * @param opts.limit @default 100
   */
  async listMessages(opts: { mailbox?: string; limit?: number } = {}): Promise<MessageSummary[]> {
    this.#flush();
    const limit = Math.max(0, Math.floor(opts.limit ?? 100));
    const rows = (
      opts.mailbox === undefined
        ? this.#stmt(
            `SELECT ${SUMMARY_COLUMNS} FROM messages m ORDER BY m.received_at DESC, m.id DESC LIMIT ?`,
          ).all(limit)
        : this.#stmt(
            `SELECT ${SUMMARY_COLUMNS} FROM mailbox_entries e JOIN messages m ON m.id = e.message_id
               WHERE e.mailbox = ? ORDER BY m.received_at DESC, m.id DESC LIMIT ?`,
          ).all(opts.mailbox, limit)
    ) as MessageRow[];
    return this.#summaries(rows);
  }

  /** Summaries of these rows, in their order, with their deliveries. */
  #summaries(rows: MessageRow[]): MessageSummary[] {
    if (rows.length === 0) return [];
    const deliveries = this.#stmt(
      'SELECT * FROM deliveries WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY rowid',
    ).all(JSON.stringify(rows.map((r) => r.id))) as DeliveryRow[];
    const byMessage = new Map<string, DeliveryRow[]>();
    for (const d of deliveries) {
      const list = byMessage.get(d.message_id);
      if (list) list.push(d);
      else byMessage.set(d.message_id, [d]);
    }
    return rows.map((r) => toSummary(r, byMessage.get(r.id) ?? []));
  }

  /**
   * Oldest first (`receivedAt`, then id).
   * @param opts.limit @default 500
   */
  async listThread(threadId: string, opts: { limit?: number } = {}): Promise<MessageSummary[]> {
    this.#flush();
    const limit = Math.max(0, Math.floor(opts.limit ?? 500));
    const rows = this.#stmt(
      `SELECT ${SUMMARY_COLUMNS} FROM messages m WHERE m.thread_id = ? ORDER BY m.received_at, m.id LIMIT ?`,
    ).all(threadId, limit) as MessageRow[];
    return this.#summaries(rows);
  }

  putOutboxEntry(entry: OutboxEntry): Promise<boolean> {
    return this.#write(() => {
      const info = this.#stmt(
        `INSERT INTO outbox (id, message_id, header_message_id, created_at, envelope, subject, transport, raw)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      ).run(
        entry.id,
        entry.inReplyTo,
        entry.messageId,
        entry.createdAt,
        JSON.stringify(entry.envelope),
        entry.subject,
        entry.transport,
        entry.raw,
      );
      return info.changes > 0;
    });
  }

  async getOutboxEntry(id: string): Promise<OutboxEntry | null> {
    this.#flush();
    const row = this.#stmt('SELECT * FROM outbox WHERE id = ?').get(id) as OutboxRow | undefined;
    if (!row) return null;
    return {
      id: row.id,
      messageId: row.header_message_id,
      inReplyTo: row.message_id,
      envelope: json<{ from: string; to: string[] }>(row.envelope, { from: '', to: [] }),
      subject: row.subject,
      createdAt: row.created_at,
      transport: row.transport,
      raw: Buffer.from(row.raw ?? Buffer.alloc(0)),
    };
  }

  /**
   * Newest first (`createdAt`, then id, descending).
   * @param opts.inReplyTo only replies to this message.
   * @param opts.limit @default 100
   */
  async listOutbox(opts: { inReplyTo?: string; limit?: number } = {}): Promise<OutboxSummary[]> {
    this.#flush();
    const limit = Math.max(0, Math.floor(opts.limit ?? 100));
    const columns =
      'id, message_id, header_message_id, created_at, envelope, subject, transport, length(raw) AS size';
    const rows = (
      opts.inReplyTo === undefined
        ? this.#stmt(`SELECT ${columns} FROM outbox ORDER BY created_at DESC, id DESC LIMIT ?`).all(limit)
        : this.#stmt(
            `SELECT ${columns} FROM outbox WHERE message_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`,
          ).all(opts.inReplyTo, limit)
    ) as OutboxRow[];
    return rows.map((r) => {
      const envelope = json<{ from: string; to: string[] }>(r.envelope, { from: '', to: [] });
      return {
        id: r.id,
        messageId: r.header_message_id,
        inReplyTo: r.message_id,
        from: envelope.from,
        to: envelope.to,
        subject: r.subject,
        createdAt: r.created_at,
        transport: r.transport,
        size: r.size ?? 0,
      };
    });
  }

  /** Oldest first, so recovery processes in arrival order. */
  async listUnfinished(): Promise<string[]> {
    this.#flush();
    const rows = this.#stmt(
      `SELECT id FROM messages WHERE status NOT IN ('processed', 'failed') ORDER BY received_at, id`,
    ).all() as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** Oldest first. */
  async listFailed(opts: { receivedSince?: string } = {}): Promise<string[]> {
    this.#flush();
    const rows = this.#stmt(
      `SELECT id FROM messages WHERE status = 'failed' AND received_at >= ? ORDER BY received_at, id`,
    ).all(opts.receivedSince ?? '') as { id: string }[];
    return rows.map((r) => r.id);
  }

  async hasMessage(id: string): Promise<boolean> {
    this.#flush();
    return this.#stmt('SELECT 1 FROM messages WHERE id = ?').get(id) !== undefined;
  }

  async close(): Promise<void> {
    this.#flush();
    if (this.#db.open) this.#db.close();
  }
}
