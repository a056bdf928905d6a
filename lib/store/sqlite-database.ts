import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { migrate } from './sqlite-schema.ts';
import { WalSync } from './wal-sync.ts';

let sqlite: typeof Database | undefined;

/**
 * Opens a database with better-sqlite3, a native module loaded on the first open rather than at import:
 * the AWS side reaches the store's shared policy through `lib/store/index.ts` and must not load (or
 * bundle) SQLite.
 */
function openDatabase(file: string): Database.Database {
  sqlite ??= createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  return new sqlite(file);
}

interface PendingWrite {
  run: () => unknown;
  /** The write need not reach the disk at its commit (see {@link SqliteDatabase.write}). */
  relaxed: boolean;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Writes that processing makes again when a message is run again (traces, verdicts, the parse, the
 * `processing` status, a delivery planned but not tried): they commit without a WAL fsync of their own.
 * The WAL keeps them in order, so the next durable commit (a delivery's outcome, the final status) makes
 * them durable with it; a power loss before that loses only work of a message still unfinished, which
 * recovery runs again. See {@link SqliteDatabase.write}.
 */
export const RECOMPUTED = { relaxed: true } as const;
/** Writes that must survive a power loss once they resolve: outcomes that exactly-once effects rely on. */
export const DURABLE = { relaxed: false } as const;

/**
 * WAL pages after which a commit checkpoints them into the database file (SQLite's default: 1,000). A
 * checkpoint runs inside the commit that crosses it, on the event loop, and fsyncs the WAL and the
 * database; four times fewer of them, each copying a page written many times once, cost about a third of
 * the main thread's time in checkpoints per message (measured: 0.28 → 0.10 ms of fsync per message). The
 * WAL grows to about 16 MB before it is reused.
 */
const WAL_CHECKPOINT_PAGES = 4000;

/**
 * One SQLite connection of the message store (WAL mode, schema migrated on open), with its prepared
 * statements and batched writes.
 *
 * Writes are batched: everything written during one turn of the event loop commits in one transaction (if
 * one write fails, the batch is rolled back and each write runs alone, so it fails alone). Reads call
 * {@link read}, which flushes first, so a read always sees every earlier write. Committing 20 concurrent
 * sessions' records at once costs about what one costs.
 *
 * Durability: commits run with `synchronous = NORMAL` (the WAL is not synced inside the commit, so the event
 * loop never waits for the disk), and a write resolves only once a sync of the WAL that began after its
 * commit has finished ({@link WalSync}, on libuv's thread pool, shared by every write of that moment) — what
 * `synchronous = FULL` guarantees, without blocking. A relaxed write resolves at its commit: it is in order
 * in the WAL, the next sync makes it durable with the others, and a power loss before that loses it whole.
 */
export class SqliteDatabase {
  readonly #db: Database.Database;
  readonly #walSync: Pick<WalSync, 'wait' | 'close'>;
  /** Prepared statements by SQL text: preparing is costlier than running a small statement. */
  readonly #statements = new Map<string, Database.Statement>();
  #pending: PendingWrite[] = [];
  #flushScheduled = false;
  /**
   * Runs writes in one transaction. BEGIN IMMEDIATE, as every write transaction here: with several
   * connections to one file (processing worker threads), a deferred transaction that read first cannot
   * wait for the write lock (SQLITE_BUSY at once, the busy timeout unused); an immediate one waits.
   */
  readonly #batch: (runs: Array<() => unknown>) => unknown[];
  /** Runs one write in its own (immediate) transaction. */
  readonly #single: (run: () => unknown) => unknown;

  /**
   * @param file path of the database file, or `':memory:'`.
   * @param walSync syncs the WAL after commits. @default a {@link WalSync} of `<file>-wal`
   */
  constructor(file: string, busyTimeoutMs: number, walSync?: Pick<WalSync, 'wait' | 'close'>) {
    this.#db = openDatabase(file);
    this.#walSync = walSync ?? new WalSync(file === ':memory:' || file === '' ? null : `${file}-wal`);
    const batch = this.#db.transaction((runs: Array<() => unknown>) => runs.map((run) => run()));
    const single = this.#db.transaction((run: () => unknown) => run());
    this.#batch = (runs) => batch.immediate(runs);
    this.#single = (run) => single.immediate(run);
    try {
      this.#db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = NORMAL'); // the WAL is synced after the commit instead (WalSync)
      this.#db.pragma('foreign_keys = ON');
      this.#db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
      migrate(this.#db);
    } catch (err) {
      this.#db.close();
      throw err;
    }
  }

  /**
   * The durability settings in force on this connection, read back from SQLite, and whether a (not
   * relaxed) write waits for a sync of the WAL before it resolves (always, for a database in a file).
   */
  durability(): { journalMode: string; synchronous: string; walSyncedBeforeWriteResolves: boolean } {
    const levels = ['off', 'normal', 'full', 'extra'];
    const level = this.#db.pragma('synchronous', { simple: true }) as number;
    const journalMode = String(this.#db.pragma('journal_mode', { simple: true }));
    return {
      journalMode,
      synchronous: levels[level] ?? String(level),
      walSyncedBeforeWriteResolves: journalMode === 'wal',
    };
  }

  /** The prepared statement of this SQL (prepared once per connection). */
  stmt(sql: string): Database.Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Runs `run` in the next batch's transaction; resolves with its result once committed and the WAL synced
   * after it. With `relaxed`, once committed (not yet on disk): only for writes that can be made again after
   * a crash (a record whose source of truth is durable elsewhere, work a message's next run redoes).
   */
  write<T>(run: () => T, options: { relaxed?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const relaxed = options.relaxed ?? false;
      this.#pending.push({ run, relaxed, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Runs a read after every earlier write has committed. */
  read<T>(run: () => T): T {
    this.#flush();
    return run();
  }

  /** Commits what is pending and waits for its sync, then closes the connection. */
  close(): void {
    this.#flush();
    this.#walSync.close();
    if (this.#db.open) this.#db.close();
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#pending;
    if (batch.length === 0 || !this.#db.open) return;
    this.#pending = [];
    const outcomes = this.#commit(batch);
    let synced: Promise<void> | null = null;
    for (const [i, op] of batch.entries()) {
      const outcome = outcomes[i]!;
      if (!outcome.ok) op.reject(outcome.error);
      else if (op.relaxed) op.resolve(outcome.value);
      else {
        synced ??= this.#walSync.wait();
        synced.then(
          () => op.resolve(outcome.value),
          (err: unknown) => op.reject(err),
        );
      }
    }
  }

  /** Commits the batch in one transaction; when one write fails, each alone, so it fails alone. */
  #commit(batch: PendingWrite[]): Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
    try {
      return this.#batch(batch.map((op) => op.run)).map((value) => ({ ok: true as const, value }));
    } catch {
      return batch.map((op) => {
        try {
          return { ok: true as const, value: this.#single(op.run) };
        } catch (error) {
          return { ok: false as const, error };
        }
      });
    }
  }
}
