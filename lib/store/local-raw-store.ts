import { mkdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Envelope } from '../kernel/index.ts';
import { type CheckpointFile, CheckpointWriter } from './checkpoint-writer.ts';
import { fsyncPath } from './fs-durable.ts';
import { GroupCommitJournal, type JournalIo } from './group-commit-journal.ts';
import { decodeJournalRecords, encodeJournalRecord } from './journal-record.ts';
import { ENVELOPE_EXTENSION, EXTENSION, RawFiles } from './raw-files.ts';
import { releaseTempPath, removeStaleTemps, tempPath } from './temp-files.ts';
import type { DeletableRawStore, RawPutOptions } from './types.ts';

/** Ids become file names: letters, digits, dot, underscore and dash, not starting with a dot. */
const SAFE_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

export interface LocalRawStoreOptions {
  /**
   * Bytes gathered from a streamed message before they are written out in one call (direct path).
   * @default 262_144 (256 KiB)
   */
  writeBufferBytes?: number;
  /**
   * Messages up to this size are made durable through the group-commit journal (one flush shared by
   * every message that arrives meanwhile); bigger ones are written straight to their own file.
   * 0 turns the journal off.
   * @default 1_048_576 (1 MiB)
   */
  journalMaxMessageBytes?: number;
  /**
   * Bytes of journaled messages that may wait, in memory, to be written out as files; past this, new
   * messages take the direct path until the backlog drains.
   * @default 67_108_864 (64 MiB)
   */
  journalBacklogBytes?: number;
  /**
   * How long journaled messages may wait before they are written out as files. Each checkpoint costs a
   * fixed amount besides its files (a new journal segment, a `sync` process, the old segment's removal),
   * so at a low rate a longer wait costs less CPU per message; the messages are durable in the journal all
   * along. @default 1000
   */
  checkpointIntervalMs?: number;
  /**
   * Bytes of journaled messages after which a checkpoint starts at once instead of waiting for the interval
   * (big messages at a high rate are written out sooner, so the backlog held in memory stays small).
   * @default 8_388_608 (8 MiB), at most half of `journalBacklogBytes`
   */
  checkpointBytes?: number;
  /**
   * Scheduling priority (nice value) of the thread that writes journaled messages out as files (Linux):
   * below the SMTP thread's, so a busy core answers `250`s first; null keeps the process's.
   * @default 10 (os.constants.priority.PRIORITY_BELOW_NORMAL)
   */
  checkpointThreadPriority?: number | null;
  /** Replaces the journal's file operations: fault injection in tests (a full disk, a failing flush). */
  journalIo?: Partial<JournalIo>;
}

interface BacklogEntry {
  id: string;
  data: Buffer;
  envelope: Envelope | null;
}

/**
 * Raw messages as files: `<dir>/raw/<id>.eml`, with the SMTP envelope beside it in `<id>.envelope.json`.
 *
 * Durability comes first: `put()` resolves only once the bytes would survive a crash. Two paths get there:
 *
 * - **Journal (messages up to 1 MiB).** The message is appended to `<dir>/journal/<seq>.log` and flushed
 *   with one `fdatasync` shared by every message that arrived meanwhile (group commit) — that is what lets
 *   20 concurrent SMTP sessions outrun a server that fsyncs each message. A checkpoint then writes each
 *   message as its own file (temp file, fdatasync, rename, directory fsync) and only after that deletes
 *   the journal segment. On start, any segment still there is replayed into files first.
 * - **Direct (bigger messages).** Streamed to `<dir>/tmp/<id>.<n>` (never held whole in memory),
 *   fdatasync'd, renamed into `raw/`, and the directory fsync'd; concurrent directory fsyncs are coalesced.
 *
 * Either way a message is completely there or not at all. Files left in `tmp/` by a crash are never listed,
 * and are deleted at the next start (see `removeStaleTemps`). A journal write that fails (a full disk) is
 * cut back out of its segment before `put()` rejects, so a message answered `451` is never replayed.
 */
export class LocalRawStore implements DeletableRawStore {
  readonly dir: string;
  readonly #files: RawFiles;
  readonly #journalMax: number;
  readonly #backlogMax: number;
  readonly #checkpointMs: number;
  readonly #checkpointBytes: number;
  readonly #journal: GroupCommitJournal<BacklogEntry>;
  readonly #writer: CheckpointWriter;
  /** Journaled messages not yet written out as files, by id (latest put wins). */
  readonly #backlog = new Map<string, BacklogEntry>();
  #backlogBytes = 0;
  #ready: Promise<void> | null = null;
  #checkpointTimer: NodeJS.Timeout | null = null;
  /** Whether the pending timer fires at once (the byte threshold), not at the interval. */
  #checkpointSoon = false;
  #checkpointRunning: Promise<void> | null = null;
  #checkpointError: unknown = null;

  constructor(dir: string, options: LocalRawStoreOptions = {}) {
    this.dir = dir;
    this.#files = new RawFiles(dir, options.writeBufferBytes ?? 256 * 1024);
    this.#journalMax = options.journalMaxMessageBytes ?? 1024 * 1024;
    this.#backlogMax = options.journalBacklogBytes ?? 64 * 1024 * 1024;
    this.#checkpointMs = options.checkpointIntervalMs ?? 1000;
    this.#checkpointBytes = Math.min(options.checkpointBytes ?? 8 * 1024 * 1024, this.#backlogMax / 2);
    this.#writer = new CheckpointWriter({ threadPriority: options.checkpointThreadPriority });
    this.#journal = new GroupCommitJournal(join(dir, 'journal'), options.journalIo);
  }

  async put(
    id: string,
    data: Buffer | AsyncIterable<Buffer | Uint8Array>,
    options: RawPutOptions = {},
  ): Promise<{ size: number }> {
    assertSafeId(id);
    await this.#init();
    const envelope = options.envelope ?? null;
    const journalOpen = this.#journalMax > 0 && this.#backlogBytes < this.#backlogMax;
    if (Buffer.isBuffer(data)) {
      if (journalOpen && data.length <= this.#journalMax) return this.#putJournaled(id, data, envelope);
      return this.#files.putDirect(id, [data], null, envelope);
    }
    // Gather up to the journal limit in memory; past it, stream the rest to a file.
    const iterator = data[Symbol.asyncIterator]();
    const head: Uint8Array[] = [];
    let headBytes = 0;
    const limit = journalOpen ? this.#journalMax : 0;
    while (true) {
      const next = await iterator.next();
      if (next.done) return this.#putJournaled(id, Buffer.concat(head, headBytes), envelope, limit > 0);
      if (next.value.length === 0) continue;
      head.push(next.value);
      headBytes += next.value.length;
      if (headBytes > limit) return this.#files.putDirect(id, head, iterator, envelope);
    }
  }

  /**
   * The stored bytes, the caller's own (a message still waiting in the journal comes as a copy: its bytes
   * are still to be written out); rejects with an `ENOENT` error for an unknown id.
   */
  async get(id: string): Promise<Buffer> {
    assertSafeId(id);
    await this.#init();
    const pending = this.#backlog.get(id);
    if (pending) return Buffer.from(pending.data);
    return this.#files.read(id);
  }

  async getEnvelope(id: string): Promise<Envelope | null> {
    assertSafeId(id);
    await this.#init();
    const pending = this.#backlog.get(id);
    if (pending) return pending.envelope;
    return this.#files.readEnvelope(id);
  }

  async list(): Promise<string[]> {
    await this.#init();
    const ids = new Set(await this.#files.ids());
    for (const id of this.#backlog.keys()) ids.add(id);
    return [...ids];
  }

  /**
   * Removes a message's bytes and envelope sidecar, then fsyncs `raw/`. A message still in the journal is
   * written out first, so no journal segment can bring it back at the next start. Envelope logs of earlier
   * checkpoints keep their lines (they are read only for a message whose bytes exist).
   * @returns the bytes freed; 0 for an unknown id (deleting twice is harmless).
   */
  async delete(id: string): Promise<number> {
    assertSafeId(id);
    await this.#init();
    if (this.#backlog.has(id)) await this.checkpoint();
    return deleteRawFiles(this.dir, id, () => this.#files.syncRawDir());
  }

  /** Writes every journaled message out as its own file and retires the journal segments. */
  checkpoint(): Promise<void> {
    if (this.#checkpointTimer) {
      clearTimeout(this.#checkpointTimer);
      this.#checkpointTimer = null;
    }
    const run = (this.#checkpointRunning ?? Promise.resolve()).then(() => this.#runCheckpoint());
    // The chain that orders checkpoints must never reject (that would be an unhandled rejection).
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#checkpointRunning = settled;
    void settled.then(() => {
      if (this.#checkpointRunning === settled) this.#checkpointRunning = null;
    });
    return run;
  }

  /** Writes out the journal and releases file handles. The store can still be used afterwards. */
  async close(): Promise<void> {
    if (this.#ready) {
      await this.#ready.catch(() => undefined);
      await this.checkpoint().catch(() => undefined);
      await this.#journal.close();
      await this.#writer.close();
    }
    await this.#files.close();
  }

  #init(): Promise<void> {
    this.#ready ??= (async () => {
      await mkdir(this.#files.rawDir, { recursive: true });
      await mkdir(this.#files.tmpDir, { recursive: true });
      await mkdir(this.#files.envelopeDir, { recursive: true });
      await fsyncPath(this.dir);
      await removeStaleTemps(this.#files.tmpDir);
      await this.#recoverJournal();
      await this.#journal.open();
    })().catch((err: unknown) => {
      this.#ready = null;
      throw err;
    });
    return this.#ready;
  }

  /** Replays segments left by a crash into files, then deletes them. */
  async #recoverJournal(): Promise<void> {
    const segments = await GroupCommitJournal.segmentNumbers(this.#journal.dir);
    if (segments.length === 0) return;
    for (const segment of segments) {
      const { records } = decodeJournalRecords(await GroupCommitJournal.readSegment(segment.path));
      for (const r of records) await this.#files.writeFiles(r);
    }
    await this.#files.syncRawDir();
    for (const segment of segments) await unlink(segment.path);
    await fsyncPath(this.#journal.dir);
  }

  async #putJournaled(id: string, data: Buffer, envelope: Envelope | null, journal = true) {
    if (!journal) return this.#files.putDirect(id, [data], null, envelope);
    if (this.#checkpointError) {
      // Files cannot be written out right now: don't let the backlog grow on an unhealthy disk.
      const err = this.#checkpointError;
      this.#checkpointError = null;
      throw err;
    }
    const entry: BacklogEntry = { id, data, envelope };
    await this.#journal.append(encodeJournalRecord(entry), entry);
    const previous = this.#backlog.get(id);
    if (previous) this.#backlogBytes -= previous.data.length;
    this.#backlog.set(id, entry);
    this.#backlogBytes += data.length;
    this.#scheduleCheckpoint();
    return { size: data.length };
  }

  #scheduleCheckpoint(): void {
    const now = this.#backlogBytes >= this.#checkpointBytes;
    if (this.#checkpointTimer) {
      if (!now || this.#checkpointSoon) return;
      clearTimeout(this.#checkpointTimer); // enough bytes are waiting: start now, not at the interval
    }
    this.#checkpointSoon = now;
    this.#checkpointTimer = setTimeout(
      () => {
        this.#checkpointTimer = null;
        this.checkpoint().catch((err: unknown) => {
          this.#checkpointError = err;
        });
      },
      now ? 0 : this.#checkpointMs,
    );
    this.#checkpointTimer.unref();
  }

  async #runCheckpoint(): Promise<void> {
    await this.#init();
    const { seqs, tags } = await this.#journal.rotate();
    if (seqs.length === 0) return;
    // Later records for the same id replace earlier ones; write only the latest of each.
    const latest = new Map<string, BacklogEntry>();
    for (const entry of tags) latest.set(entry.id, entry);
    const entries = [...latest.values()];
    // Write every file, then make them all durable at once (one syncfs where the system has it, else an
    // fdatasync per file), off the main thread. Only then may the journal segments go.
    const files: CheckpointFile[] = entries.map((e) => ({
      path: join(this.#files.rawDir, e.id + EXTENSION),
      tmp: tempPath(this.#files.tmpDir, e.id + EXTENSION),
      data: e.data,
    }));
    const envelopes = entries
      .filter((e) => e.envelope)
      .map((e) => `${JSON.stringify({ id: e.id, envelope: e.envelope })}\n`)
      .join('');
    if (envelopes) {
      const logName = `${String(seqs[0]).padStart(12, '0')}-${String(seqs.at(-1)).padStart(12, '0')}.ndjson`;
      files.push({
        path: join(this.#files.envelopeDir, logName),
        tmp: tempPath(this.#files.tmpDir, logName),
        data: Buffer.from(envelopes),
      });
    }
    try {
      await this.#writer.write(files, this.#files.rawDir);
    } finally {
      for (const f of files) releaseTempPath(f.tmp);
    }
    await this.#journal.remove(seqs);
    for (const entry of tags) {
      if (this.#backlog.get(entry.id) === entry) {
        this.#backlog.delete(entry.id);
        this.#backlogBytes -= entry.data.length;
      }
    }
    this.#checkpointError = null;
  }
}

/**
 * Removes a written-out message's files (`raw/<id>.eml` and its envelope sidecar) under a data directory,
 * then fsyncs `raw/`; the bytes freed, 0 when there were none. Touches nothing else (no journal recovery),
 * so another process may use this while a server owns the store: `mailroom prune` does, for messages
 * retention found finished, long since written out of any journal.
 */
export async function deleteRawFiles(
  dir: string,
  id: string,
  syncRawDir: () => Promise<void> = () => fsyncPath(join(dir, 'raw')),
): Promise<number> {
  assertSafeId(id);
  let freed = 0;
  for (const name of [id + EXTENSION, id + ENVELOPE_EXTENSION]) {
    const path = join(dir, 'raw', name);
    try {
      const { size } = await stat(path);
      await unlink(path);
      freed += size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  if (freed > 0) await syncRawDir();
  return freed;
}

function assertSafeId(id: string): void {
  if (!SAFE_ID.test(id)) throw new RangeError(`not a valid message id: ${JSON.stringify(id)}`);
}
