import type { AuthVerdicts } from '../auth/index.ts';
import type { Envelope } from '../kernel/index.ts';
import type { ParsedMessage } from '../message/index.ts';
import type { ArrivalRecord, MessageHousekeeping, MessageQuery, MessageStore } from './message-store.ts';
import type {
  DeliveryRecord,
  MailboxEntry,
  MessageDetail,
  MessageStatus,
  MessageSummary,
  OutboxEntry,
  OutboxSummary,
  TraceEntry,
} from './records.ts';
import { insertReceived, insertTrace, updateAuth } from './sqlite-arrival.ts';
import { DURABLE, RECOMPUTED, SqliteDatabase } from './sqlite-database.ts';
import { insertDeliveryIfAbsent, upsertDelivery } from './sqlite-deliveries.ts';
import {
  deleteMessageRecords,
  listExpired,
  listMailboxes,
  referencedAttachments,
  writeAttachmentRefs,
} from './sqlite-housekeeping.ts';
import { listingSql } from './sqlite-query.ts';
import {
  type DeliveryRow,
  type MailboxRow,
  type MessageRow,
  type OutboxRow,
  parseOfStored,
  SUMMARY_COLUMNS,
  storedDeliveryOfRow,
  storedMailboxEntry,
  storedMessage,
} from './sqlite-rows.ts';
import { searchDocument, writeSearchDocument } from './sqlite-search.ts';
import { sqliteThreadStorage } from './sqlite-threads.ts';
import {
  deliveryRecord,
  json,
  mailboxEntry,
  messageDetail,
  messageSummary,
  outboxSummary,
  storedMailboxData,
} from './stored-records.ts';
import { fileInThreadSync, type SyncThreadStorage } from './thread-filing.ts';

export { SQLITE_SCHEMA_VERSION } from './sqlite-schema.ts';

export interface SqliteMessageStoreOptions {
  /**
   * @deprecated Ignored: a write always resolves only once the WAL is synced after its commit (the sync runs
   * off the event loop: see SqliteDatabase), so a delivery recorded as `delivered` survives a power loss;
   * without it the last commits could vanish and a webhook or handler that already ran would run again.
   */
  synchronous?: 'full' | 'normal';
  /** How long a write waits for another process holding the lock (the CLI, a second server). @default 5000 */
  busyTimeoutMs?: number;
  /** Clock for trace entries. @default () => new Date() */
  now?: () => Date;
}

/**
 * The local {@link MessageStore}: one SQLite file (WAL mode) via better-sqlite3.
 * Safe to open from several processes at once (the dev server and `mailroom replay`).
 * Writes are batched per turn of the event loop and reads see every earlier write (`sqlite-database.ts`);
 * threading policy and record mapping are the shared ones (`thread-filing.ts`, `stored-records.ts`).
 */
export class SqliteMessageStore implements MessageStore, MessageHousekeeping {
  readonly #db: SqliteDatabase;
  readonly #threads: SyncThreadStorage;
  readonly #now: () => Date;
  /** One connection's queue: writes commit in call order, and a read commits what is queued first. */
  readonly ordersWrites = true;

  /** @param file path of the database file, or `':memory:'`. */
  constructor(file: string, options: SqliteMessageStoreOptions = {}) {
    this.#now = options.now ?? (() => new Date());
    this.#db = new SqliteDatabase(file, options.busyTimeoutMs ?? 5000);
    this.#threads = sqliteThreadStorage(this.#db);
  }

  /** The durability settings in force on this connection (see SqliteDatabase.durability). */
  durability(): ReturnType<SqliteDatabase['durability']> {
    return this.#db.durability();
  }

  // ---------------------------------------------------------------------------------------------------
  // message records

  recordReceived(rec: { id: string; receivedAt: string; envelope: Envelope; size: number }): Promise<void> {
    return this.#db.write(() => {
      insertReceived(this.#db, rec);
    });
  }

  /**
   * The record, the `received` trace entry and the verdicts in one relaxed write (no fsync of its own: the
   * raw store holds the message durably, and recovery records it again after a crash).
   */
  recordArrival(arrival: ArrivalRecord): Promise<void> {
    return this.#db.write(
      () => {
        if (!insertReceived(this.#db, arrival)) return;
        insertTrace(this.#db, arrival.id, this.#now().toISOString(), 'received', arrival.trace);
        if (arrival.auth) updateAuth(this.#db, arrival.id, arrival.auth);
      },
      { relaxed: true },
    );
  }

  saveAuth(id: string, auth: AuthVerdicts | null): Promise<void> {
    return this.#db.write(() => updateAuth(this.#db, id, auth), RECOMPUTED);
  }

  setStatus(id: string, status: MessageStatus): Promise<void> {
    return this.#db.write(
      () => {
        this.#db.stmt('UPDATE messages SET status = ? WHERE id = ?').run(status, id);
      },
      // `processed` follows from the deliveries' own records (a re-run after a lost write finds every
      // one done and says `processed` again); `failed` and `received` are kept on disk.
      status === 'processing' || status === 'processed' ? RECOMPUTED : DURABLE,
    );
  }

  addTrace(id: string, step: string, detail: string): Promise<void> {
    return this.#db.write(
      () => insertTrace(this.#db, id, this.#now().toISOString(), step, detail),
      RECOMPUTED,
    );
  }

  async getMessage(id: string): Promise<MessageDetail | null> {
    return this.#db.read(() => {
      const row = this.#db
        .stmt(
          `SELECT ${SUMMARY_COLUMNS}, p.parsed, m.auth FROM messages m
             LEFT JOIN message_parses p ON p.message_id = m.id WHERE m.id = ?`,
        )
        .get(id) as MessageRow | undefined;
      if (!row) return null;
      const trace = this.#db
        .stmt('SELECT at, step, detail FROM trace WHERE message_id = ? ORDER BY seq')
        .all(id) as TraceEntry[];
      const deliveries = this.#deliveryRows(id);
      return messageDetail(messageSummary(storedMessage(row), deliveries), {
        parsed: parseOfStored(row.parsed),
        authJson: row.auth,
        trace,
        deliveries,
      });
    });
  }

  /**
   * Newest first (`receivedAt`, then id, descending), one page (`limit`, default 100, at most 500) after
   * the cursor `before`; every filter of {@link MessageQuery} is answered (`sqlite-query.ts`), `search`
   * by FTS5 over subject, From, To/Cc, envelope and text body (`sqlite-search.ts`).
   * @throws MessageQueryError for a cursor this store did not give or an unknown status.
   */
  async listMessages(opts: MessageQuery = {}): Promise<MessageSummary[]> {
    const { sql, params } = listingSql(opts);
    return this.#db.read(() => this.#summaries(this.#db.stmt(sql).all(params) as MessageRow[]));
  }

  /** Oldest first, so recovery processes in arrival order. */
  async listUnfinished(): Promise<string[]> {
    return this.#ids(
      `SELECT id FROM messages WHERE status NOT IN ('processed', 'failed') ORDER BY received_at, id`,
    );
  }

  /** Oldest first. */
  async listFailed(opts: { receivedSince?: string } = {}): Promise<string[]> {
    const sql = `SELECT id FROM messages WHERE status = 'failed' AND received_at >= ? ORDER BY received_at, id`;
    return this.#ids(sql, opts.receivedSince ?? '');
  }

  async hasMessage(id: string): Promise<boolean> {
    return this.#db.read(() => this.#db.stmt('SELECT 1 FROM messages WHERE id = ?').get(id) !== undefined);
  }

  #ids(sql: string, ...params: string[]): string[] {
    return this.#db.read(() => (this.#db.stmt(sql).all(...params) as { id: string }[]).map((r) => r.id));
  }

  /** Summaries of these rows, in their order, with their deliveries. */
  #summaries(rows: MessageRow[]): MessageSummary[] {
    if (rows.length === 0) return [];
    const deliveries = this.#db
      .stmt('SELECT * FROM deliveries WHERE message_id IN (SELECT value FROM json_each(?)) ORDER BY rowid')
      .all(JSON.stringify(rows.map((r) => r.id))) as DeliveryRow[];
    const byMessage = new Map<string, DeliveryRow[]>();
    for (const d of deliveries) {
      const list = byMessage.get(d.message_id);
      if (list) list.push(d);
      else byMessage.set(d.message_id, [d]);
    }
    return rows.map((r) =>
      withRead(messageSummary(storedMessage(r), (byMessage.get(r.id) ?? []).map(storedDeliveryOfRow)), r),
    );
  }

  // ---------------------------------------------------------------------------------------------------
  // threads

  /** Also indexes the message for search and records the attachments its parse lists (retention). */
  saveParsed(id: string, parsed: ParsedMessage): Promise<{ threadId: string }> {
    return this.#db.write(() => {
      const filed = fileInThreadSync(this.#threads, id, parsed);
      const row = this.#db.stmt('SELECT mail_from, rcpt_to FROM messages WHERE id = ?').get(id) as
        | { mail_from: string; rcpt_to: string }
        | undefined;
      if (row) {
        const envelope = { mailFrom: row.mail_from, rcptTo: json<string[]>(row.rcpt_to, []) };
        writeSearchDocument(this.#db, id, searchDocument(parsed, envelope));
        writeAttachmentRefs(this.#db, id, parsed);
      }
      return filed;
    }, RECOMPUTED);
  }

  /**
   * Oldest first (`receivedAt`, then id).
   * @param opts.limit @default 500
   */
  async listThread(threadId: string, opts: { limit?: number } = {}): Promise<MessageSummary[]> {
    const limit = Math.max(0, Math.floor(opts.limit ?? 500));
    return this.#db.read(() => {
      const rows = this.#db
        .stmt(
          `SELECT ${SUMMARY_COLUMNS} FROM messages m WHERE m.thread_id = ? ORDER BY m.received_at, m.id LIMIT ?`,
        )
        .all(threadId, limit) as MessageRow[];
      return this.#summaries(rows);
    });
  }

  // ---------------------------------------------------------------------------------------------------
  // deliveries

  async getDelivery(key: string): Promise<DeliveryRecord | null> {
    return this.#db.read(() => {
      const row = this.#db.stmt('SELECT * FROM deliveries WHERE key = ?').get(key) as DeliveryRow | undefined;
      return row ? deliveryRecord(storedDeliveryOfRow(row)) : null;
    });
  }

  /** Upserts in place, so a delivery keeps its position (creation order) in the summary. */
  putDelivery(d: DeliveryRecord, options: { relaxed?: boolean } = {}): Promise<void> {
    return this.#db.write(() => upsertDelivery(this.#db, d), deliveryDurability(d, options.relaxed));
  }

  /** In the write queue (no commit of its own): sees every earlier write of this store object. */
  insertDelivery(d: DeliveryRecord): Promise<DeliveryRecord | null> {
    return this.#db.write(() => insertDeliveryIfAbsent(this.#db, d), deliveryDurability(d, false));
  }

  /** Every delivery of one message, in creation order. */
  async listDeliveries(messageId: string): Promise<DeliveryRecord[]> {
    return this.#db.read(() => this.#deliveryRows(messageId).map(deliveryRecord));
  }

  #deliveryRows(messageId: string) {
    const rows = this.#db
      .stmt('SELECT * FROM deliveries WHERE message_id = ? ORDER BY rowid')
      .all(messageId) as DeliveryRow[];
    return rows.map(storedDeliveryOfRow);
  }

  // ---------------------------------------------------------------------------------------------------
  // mailboxes

  /**
   * Relaxed (no sync of its own): the mailbox delivery records it after this commit, later in the WAL, and
   * a re-run after both were lost writes it again (a surviving entry makes the insert a no-op).
   */
  putMailboxEntry(entry: MailboxEntry): Promise<boolean> {
    return this.#db.write(() => {
      const info = this.#db
        .stmt(
          `INSERT INTO mailbox_entries (mailbox, message_id, data, created_at, received_at)
             VALUES (@mailbox, @id, @data, @createdAt,
               COALESCE((SELECT received_at FROM messages WHERE id = @id), @createdAt))
             ON CONFLICT (mailbox, message_id) DO NOTHING`,
        )
        .run({
          mailbox: entry.mailbox,
          id: entry.messageId,
          data: storedMailboxData(entry),
          createdAt: entry.createdAt,
        });
      return info.changes > 0;
    }, RECOMPUTED);
  }

  /** Oldest first (the order messages arrived in the mailbox). */
  async listMailboxEntries(mailbox: string): Promise<MailboxEntry[]> {
    return this.#db.read(() => {
      const rows = this.#db
        .stmt('SELECT * FROM mailbox_entries WHERE mailbox = ? ORDER BY created_at, rowid')
        .all(mailbox) as MailboxRow[];
      return rows.map((r) => mailboxEntry(storedMailboxEntry(r)));
    });
  }

  // ---------------------------------------------------------------------------------------------------
  // outbox

  putOutboxEntry(entry: OutboxEntry): Promise<boolean> {
    return this.#db.write(() => {
      const info = this.#db
        .stmt(
          `INSERT INTO outbox (id, message_id, header_message_id, created_at, envelope, subject, transport, raw)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        )
        .run(
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
    const row = this.#db.read(
      () => this.#db.stmt('SELECT * FROM outbox WHERE id = ?').get(id) as OutboxRow | undefined,
    );
    if (!row) return null;
    return {
      id: row.id,
      messageId: row.header_message_id,
      inReplyTo: row.message_id,
      envelope: outboxEnvelope(row),
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
    const limit = Math.max(0, Math.floor(opts.limit ?? 100));
    const columns =
      'id, message_id, header_message_id, created_at, envelope, subject, transport, length(raw) AS size';
    const rows = this.#db.read(
      () =>
        (opts.inReplyTo === undefined
          ? this.#db
              .stmt(`SELECT ${columns} FROM outbox ORDER BY created_at DESC, id DESC LIMIT ?`)
              .all(limit)
          : this.#db
              .stmt(
                `SELECT ${columns} FROM outbox WHERE message_id = ? ORDER BY created_at DESC, id DESC LIMIT ?`,
              )
              .all(opts.inReplyTo, limit)) as OutboxRow[],
    );
    return rows.map((r) => outboxSummary(outboxHead(r)));
  }

  // ---------------------------------------------------------------------------------------------------
  // housekeeping (dev page, retention)

  /** Every record in one transaction (`sqlite-housekeeping.ts`), the outbox replies it caused included. */
  deleteMessage(id: string): Promise<boolean> {
    return this.#db.write(() => deleteMessageRecords(this.#db, id));
  }

  setRead(id: string, read: boolean): Promise<void> {
    return this.#db.write(() => {
      this.#db.stmt('UPDATE messages SET read = ? WHERE id = ?').run(read ? 1 : 0, id);
    });
  }

  async listMailboxes(): Promise<Array<{ name: string; count: number; unread: number }>> {
    return this.#db.read(() => listMailboxes(this.#db));
  }

  /** Only finished messages (`processed`, `failed`): one still in the pipeline is never listed. */
  async listExpired(opts: { receivedBefore?: string; keepNewest?: number }): Promise<string[]> {
    return this.#db.read(() => listExpired(this.#db, opts));
  }

  async referencedAttachments(opts: { excluding?: readonly string[] } = {}): Promise<Set<string>> {
    return this.#db.read(() => referencedAttachments(this.#db, opts.excluding));
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}

/**
 * A delivery's record need not reach the disk by itself when the caller says so, or when it is planned and
 * not yet tried (a re-run plans it again).
 */
function deliveryDurability(d: DeliveryRecord, relaxed: boolean | undefined) {
  return relaxed || (d.status === 'pending' && d.attempts === 0) ? RECOMPUTED : DURABLE;
}

/** The summary of a listing with the dev page's read state (the detail, a shared contract, has none). */
function withRead<T extends MessageSummary>(summary: T, row: MessageRow): T {
  return { ...summary, read: row.read === 1 };
}

function outboxEnvelope(row: OutboxRow): { from: string; to: string[] } {
  return json<{ from: string; to: string[] }>(row.envelope, { from: '', to: [] });
}

/** An outbox row's columns under the names of an outbox entry. */
function outboxHead(row: OutboxRow): Parameters<typeof outboxSummary>[0] {
  return {
    id: row.id,
    messageId: row.header_message_id,
    inReplyTo: row.message_id,
    envelope: outboxEnvelope(row),
    subject: row.subject,
    createdAt: row.created_at,
    transport: row.transport,
    size: row.size,
  };
}
