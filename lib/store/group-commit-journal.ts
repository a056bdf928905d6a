import { type FileHandle, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncPath, writeAll } from './fs-durable.ts';

interface Pending<T> {
  record: Buffer;
  tag: T;
  resolve: () => void;
  reject: (err: unknown) => void;
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
 * Segments are rotated by the owner, which retires them with {@link remove} once their contents are
 * durable elsewhere. Each record carries a tag (the owner's handle for it) that comes back on rotation.
 */
export class GroupCommitJournal<T> {
  readonly dir: string;
  #seq = 0;
  #file: FileHandle | null = null;
  #queue: Pending<T>[] = [];
  #scheduled = false;
  #chain: Promise<unknown> = Promise.resolve();
  /** Flushes (fdatasync) started and not yet finished; they never reject. */
  readonly #flushing = new Set<Promise<void>>();
  /** Tags per segment that has records and is not yet removed. */
  readonly #segments = new Map<number, T[]>();

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Creates the directory; the next segment number follows any existing one. */
  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const seqs = (await GroupCommitJournal.segmentNumbers(this.dir)).map((s) => s.seq);
    this.#seq = seqs.length ? Math.max(...seqs) + 1 : 1;
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
        this.#chain = this.#chain.then(() => this.#flushBatch());
      }
    });
  }

  /** Closes the current segment; returns every segment not yet removed, with its records' tags. */
  rotate(): Promise<ClosedSegments<T>> {
    const op = this.#chain.then(async () => {
      await Promise.all(this.#flushing);
      await this.#closeFile();
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
    await Promise.all(this.#flushing);
    await this.#closeFile();
  }

  #path(seq: number): string {
    return join(this.dir, `${String(seq).padStart(12, '0')}.log`);
  }

  async #closeFile(): Promise<void> {
    const file = this.#file;
    if (!file) return;
    this.#file = null;
    this.#seq += 1;
    await file.close().catch(() => undefined);
  }

  async #flushBatch(): Promise<void> {
    this.#scheduled = false;
    const batch = this.#queue;
    this.#queue = [];
    if (batch.length === 0) return;
    let file: FileHandle;
    const seq = this.#seq;
    try {
      if (!this.#file) {
        this.#file = await open(this.#path(this.#seq), 'a', 0o600);
        await fsyncPath(this.dir); // the new segment's name must survive a crash too
      }
      file = this.#file;
      const records = batch.map((p) => p.record);
      await writeAll(
        file,
        records,
        records.reduce((n, r) => n + r.length, 0),
      );
    } catch (err) {
      // A partly written batch may sit at the end of this segment: start a fresh one for what follows.
      await this.#closeFile();
      for (const p of batch) p.reject(err);
      return;
    }
    // The flush runs outside the write chain: the next batch is written while this one is being flushed,
    // and the kernel merges overlapping flushes. A flush covers every byte written before it started.
    const flushed = file.datasync().then(
      () => {
        const tags = this.#segments.get(seq) ?? [];
        this.#segments.set(seq, tags);
        for (const p of batch) tags.push(p.tag);
        for (const p of batch) p.resolve();
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
    this.#flushing.add(flushed);
    void flushed.finally(() => this.#flushing.delete(flushed));
  }
}
