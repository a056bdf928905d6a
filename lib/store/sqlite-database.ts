import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import { migrate } from './sqlite-schema.ts';

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
 * One SQLite connection of the message store (WAL mode, `synchronous = FULL`, schema migrated on open),
 * with its prepared statements and batched writes.
 *
 * Writes are batched: everything written during one turn of the event loop commits in one transaction (if
 * one write fails, the batch is rolled back and each write runs alone, so it fails alone). Reads call
 * {@link read}, which flushes first, so a read always sees every earlier write. Committing 20 concurrent
 * sessions' records at once costs about what one costs.
 *
 * A batch made only of relaxed writes commits with `synchronous = NORMAL`: no fsync of the WAL at its
 * commit, so the event loop is not blocked on the disk for it. It is still in order in the WAL: the next
 * `FULL` commit makes it durable with its own, and a power loss before that loses it whole, never half.
 */
export class SqliteDatabase {
  readonly #db: Database.Database;
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

  /** @param file path of the database file, or `':memory:'`. */
  constructor(file: string, busyTimeoutMs: number) {
    this.#db = openDatabase(file);
    const batch = this.#db.transaction((runs: Array<() => unknown>) => runs.map((run) => run()));
    const single = this.#db.transaction((run: () => unknown) => run());
    this.#batch = (runs) => batch.immediate(runs);
    this.#single = (run) => single.immediate(run);
    try {
      this.#db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = FULL');
      this.#db.pragma('foreign_keys = ON');
      migrate(this.#db);
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
   * Runs `run` in the next batch's transaction; resolves with its result once committed. With `relaxed`,
   * committed need not mean on disk yet: only for writes that can be made again after a crash (a record
   * whose source of truth is durable elsewhere).
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

  /** Commits what is pending, then closes the connection. */
  close(): void {
    this.#flush();
    if (this.#db.open) this.#db.close();
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#pending;
    if (batch.length === 0 || !this.#db.open) return;
    this.#pending = [];
    const relaxed = batch.every((op) => op.relaxed);
    if (relaxed) this.#db.pragma('synchronous = NORMAL');
    try {
      this.#commit(batch);
    } finally {
      if (relaxed && this.#db.open) this.#db.pragma('synchronous = FULL');
    }
  }

  #commit(batch: PendingWrite[]): void {
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
}
