import { type FileHandle, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncPath, writeAll } from './fs-durable.ts';

/**
 * The file operations a journal runs on its segments. Tests replace them to inject faults (a disk that
 * fills up halfway through a write, a failing flush); everything else uses {@link defaultJournalIo}.
 */
export interface JournalIo {
  /** Writes every byte of `chunks` at the end of the file; may write part of them and then throw. */
  write(file: FileHandle, chunks: Uint8Array[], total: number): Promise<number>;
  datasync(file: FileHandle): Promise<void>;
  truncate(file: FileHandle, length: number): Promise<void>;
}

export const defaultJournalIo: JournalIo = {
  write: writeAll,
  datasync: (file) => file.datasync(),
  truncate: (file, length) => file.truncate(length),
};

interface Pending<T> {
  record: Buffer;
  tag: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** One group-committed write: its place in the segment and, once its flush has settled, its error. */
interface Batch<T> {
  pending: Pending<T>[];
  start: number;
  end: number;
  error: unknown;
  /** Settles (never rejects) once the batch's flush has succeeded or failed. */
  synced: Promise<void>;
}

interface Segment<T> {
  seq: number;
  path: string;
  file: FileHandle;
  /** Offset of the next write. */
  size: number;
  /** A write or flush failed: nothing more is written here, and the segment is cut back. */
  broken: boolean;
  failure: unknown;
  writing: Promise<unknown> | null;
  /** Batches neither acknowledged nor rejected yet. */
  open: Set<Batch<T>>;
  /** Batches are answered in the order they were written. */
  tail: Promise<void>;
  cut: Promise<void> | null;
  /** Everything from here on was answered with an error and truncated away. */
  cutAt: number;
}

/** Segments closed by {@link GroupCommitJournal.rotate}, with the tags of every record they hold. */
export interface ClosedSegments<T> {
  seqs: number[];
  tags: T[];
}

const SEGMENT = /^(\d{12})\.log$/;

/**
 * An append-only journal with group commit: records appended while a write is running are written
 * together and made durable by one `fdatasync`, so many concurrent writers share one disk flush. The next
 * batch is written while the previous one is still being flushed.
 *
 * A record is in a segment only if its append resolved (or the process died before answering): when a
 * write or a flush fails, that batch and every batch written after it are rejected only after the segment
 * has been truncated back to where the failed batch began (and the truncation flushed), so a message
 * answered `451` never comes back at the next start. A segment cut back to nothing is deleted; the next
 * batch starts a fresh one. A disk that refuses every write therefore leaves no files behind.
 * (If even the truncation fails, the rejected records may be replayed: the disk no longer obeys.)
 *
 * Segments are rotated by the owner, which retires them with {@link remove} once their contents are
 * durable elsewhere. Each record carries a tag (the owner's handle for it) that comes back on rotation.
 */
export class GroupCommitJournal<T> {
  readonly dir: string;
  readonly #io: JournalIo;
  #nextSeq = 1;
  #current: Segment<T> | null = null;
  #queue: Pending<T>[] = [];
  #scheduled = false;
  #chain: Promise<unknown> = Promise.resolve();
  /** Answers (acknowledge or reject) not yet given, across segments; they never reject. */
  readonly #answering = new Set<Promise<void>>();
  /** Tags per segment that has acknowledged records and is not yet removed. */
  readonly #segments = new Map<number, T[]>();

  constructor(dir: string, io: Partial<JournalIo> = {}) {
    this.dir = dir;
    this.#io = { ...defaultJournalIo, ...io };
  }

  /** Creates the directory; the next segment number follows any existing one. */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const seqs = (await GroupCommitJournal.segmentNumbers(this.dir)).map((s) => s.seq);
    this.#nextSeq = seqs.length ? Math.max(...seqs) + 1 : 1;
  }

  /** Existing segment files, oldest first (for recovery). */
  static async segmentNumbers(dir: string): Promise<Array<{ seq: number; path: string }>> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names
      .map((n) => SEGMENT.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ seq: Number(m[1]), path: join(dir, m[0]) }))
      .sort((a, b) => a.seq - b.seq);
  }

  static readSegment(path: string): Promise<Buffer> {
    return readFile(path);
  }

  /** Resolves once the record is durable (written and flushed with its batch). */
  append(record: Buffer, tag: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ record, tag, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        this.#chain = this.#chain.then(() => this.#writeBatch());
      }
    });
  }

  /** Closes the current segment; returns every segment not yet removed, with its records' tags. */
  rotate(): Promise<ClosedSegments<T>> {
    const op = this.#chain.then(async () => {
      await Promise.all(this.#answering);
      await this.#closeCurrent();
      const seqs = [...this.#segments.keys()].sort((a, b) => a - b);
      return { seqs, tags: seqs.flatMap((s) => this.#segments.get(s) ?? []) };
    });
    this.#chain = op.catch(() => undefined);
    return op;
  }

  /** Deletes closed segments whose records are durable elsewhere. */
  async remove(seqs: number[]): Promise<void> {
    for (const seq of seqs) {
      await unlink(this.#path(seq)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      this.#segments.delete(seq);
    }
    if (seqs.length) await fsyncPath(this.dir);
  }

  /** Waits for queued appends, then closes the file. */
  async close(): Promise<void> {
    await this.#chain.catch(() => undefined);
    await Promise.all(this.#answering);
    await this.#closeCurrent();
  }

  #path(seq: number): string {
    return join(this.dir, `${String(seq).padStart(12, '0')}.log`);
  }

  async #closeCurrent(): Promise<void> {
    const segment = this.#current;
    if (!segment) return;
    this.#current = null;
    if (!segment.broken) await segment.file.close().catch(() => undefined);
  }

  /** A new segment to write into, whose name is made durable first. */
  async #newSegment(): Promise<Segment<T>> {
    const seq = this.#nextSeq++;
    const path = this.#path(seq);
    const file = await open(path, 'a', 0o600);
    try {
      await fsyncPath(this.dir); // the new segment's name must survive a crash too
    } catch (err) {
      await file.close().catch(() => undefined);
      await unlink(path).catch(() => undefined);
      throw err;
    }
    this.#current = {
      seq,
      path,
      file,
      size: 0,
      broken: false,
      failure: null,
      writing: null,
      open: new Set(),
      tail: Promise.resolve(),
      cut: null,
      cutAt: 0,
    };
    return this.#current;
  }

  async #writeBatch(): Promise<void> {
    this.#scheduled = false;
    const pending = this.#queue;
    this.#queue = [];
    if (pending.length === 0) return;
    // The current segment is checked and written in the same turn: a failing flush may break it meanwhile.
    let segment = this.#current;
    if (!segment || segment.broken) {
      try {
        segment = await this.#newSegment();
      } catch (err) {
        for (const p of pending) p.reject(err);
        return;
      }
    }
    const records = pending.map((p) => p.record);
    const total = records.reduce((n, r) => n + r.length, 0);
    const batch: Batch<T> = {
      pending,
      start: segment.size,
      end: segment.size + total,
      error: null,
      synced: Promise.resolve(),
    };
    segment.open.add(batch);
    segment.size = batch.end;
    const written = this.#io.write(segment.file, records, total);
    segment.writing = written;
    try {
      await written;
    } catch (err) {
      this.#fail(segment, batch, err);
    } finally {
      segment.writing = null;
    }
    // The flush runs outside the write chain: the next batch is written while this one is being flushed,
    // and the kernel merges overlapping flushes. A flush covers every byte written before it started.
    if (!segment.broken) {
      batch.synced = this.#io.datasync(segment.file).then(
        () => undefined,
        (err: unknown) => this.#fail(segment, batch, err),
      );
    }
    const answered = segment.tail.then(() => this.#answer(segment, batch));
    segment.tail = answered;
    this.#answering.add(answered);
    void answered.finally(() => this.#answering.delete(answered));
  }

  /** Marks the segment failed from this batch on; what follows goes to a new segment. */
  #fail(segment: Segment<T>, batch: Batch<T>, err: unknown): void {
    batch.error = err;
    if (!segment.broken) segment.failure = err;
    segment.broken = true;
    if (this.#current === segment) this.#current = null;
  }

  /** Acknowledges or rejects a batch, in write order, once its flush (and any cut) is done. */
  async #answer(segment: Segment<T>, batch: Batch<T>): Promise<void> {
    await batch.synced;
    if (segment.broken) await this.#cut(segment);
    segment.open.delete(batch);
    if (!segment.broken || batch.end <= segment.cutAt) {
      const tags = this.#segments.get(segment.seq) ?? [];
      this.#segments.set(segment.seq, tags);
      for (const p of batch.pending) tags.push(p.tag);
      for (const p of batch.pending) p.resolve();
    } else {
      const err = batch.error ?? segment.failure;
      for (const p of batch.pending) p.reject(err);
    }
  }

  /**
   * Truncates a failed segment back to the start of its first failed batch and flushes that, so rejected
   * records cannot be replayed; deletes the segment if nothing in it was acknowledged.
   */
  #cut(segment: Segment<T>): Promise<void> {
    segment.cut ??= (async () => {
      await segment.writing?.catch(() => undefined);
      await Promise.all([...segment.open].map((b) => b.synced));
      const failedStarts = [...segment.open].filter((b) => b.error !== null).map((b) => b.start);
      segment.cutAt = Math.min(segment.size, ...failedStarts);
      let cut = true;
      try {
        await this.#io.truncate(segment.file, segment.cutAt);
        await this.#io.datasync(segment.file);
      } catch {
        cut = false; // nothing more can be done for those bytes; the batches are still rejected
      }
      await segment.file.close().catch(() => undefined);
      if (cut && segment.cutAt === 0) {
        this.#segments.delete(segment.seq);
        await unlink(segment.path).catch(() => undefined);
        await fsyncPath(this.dir).catch(() => undefined);
      }
    })();
    return segment.cut;
  }
}
