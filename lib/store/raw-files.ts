import { type FileHandle, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Envelope } from '../kernel/index.ts';
import { writeAll } from './fs-durable.ts';
import { releaseTempPath, tempPath } from './temp-files.ts';

export const EXTENSION = '.eml';
export const ENVELOPE_EXTENSION = '.envelope.json';
/** Below the usual IOV_MAX (1024). */
const MAX_CHUNKS_PER_WRITE = 512;

/**
 * The files of the {@link LocalRawStore}: `raw/<id>.eml` with its envelope sidecar `raw/<id>.envelope.json`,
 * the envelope logs of checkpoints in `envelopes/`, and temp files in `tmp/`. Every write goes through a
 * temp file, a flush and a rename, so a file is completely there or not at all; fsyncs of `raw/` are
 * coalesced (group commit).
 */
export class RawFiles {
  readonly rawDir: string;
  readonly tmpDir: string;
  readonly envelopeDir: string;
  readonly #writeBufferBytes: number;
  #rawDirHandle: Promise<FileHandle> | null = null;
  #syncRunning: Promise<void> | null = null;
  #syncQueued: Promise<void> | null = null;

  constructor(dir: string, writeBufferBytes: number) {
    this.rawDir = join(dir, 'raw');
    this.tmpDir = join(dir, 'tmp');
    this.envelopeDir = join(dir, 'envelopes');
    this.#writeBufferBytes = writeBufferBytes;
  }

  /** The bytes of a message written out; rejects with an `ENOENT` error for an unknown id. */
  read(id: string): Promise<Buffer> {
    return readFile(join(this.rawDir, id + EXTENSION));
  }

  /** The envelope of a message written out: its sidecar, else the checkpoints' envelope logs; or null. */
  async readEnvelope(id: string): Promise<Envelope | null> {
    try {
      return JSON.parse(await readFile(join(this.rawDir, id + ENVELOPE_EXTENSION), 'utf8')) as Envelope;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
    }
    return this.#findInEnvelopeLogs(id);
  }

  /** Ids of the messages written out. */
  async ids(): Promise<string[]> {
    const names = await readdir(this.rawDir);
    return names.filter((n) => n.endsWith(EXTENSION)).map((n) => n.slice(0, -EXTENSION.length));
  }

  /** Releases the handle of `raw/` kept for its fsyncs. */
  async close(): Promise<void> {
    const handle = this.#rawDirHandle;
    this.#rawDirHandle = null;
    if (handle) await (await handle.catch(() => null))?.close();
  }

  /** Envelopes of checkpointed messages live in one NDJSON file per checkpoint; newest first. */
  async #findInEnvelopeLogs(id: string): Promise<Envelope | null> {
    const names = (await readdir(this.envelopeDir).catch(() => [] as string[])).sort().reverse();
    const needle = `{"id":${JSON.stringify(id)},`;
    for (const name of names) {
      const text = await readFile(join(this.envelopeDir, name), 'utf8').catch(() => '');
      for (const line of text.split('\n')) {
        if (!line.startsWith(needle)) continue;
        try {
          return (JSON.parse(line) as { envelope: Envelope }).envelope;
        } catch {
          return null;
        }
      }
    }
    return null;
  }

  /**
   * One message's files (bytes and envelope sidecar), each flushed and atomically renamed into place (the
   * directory fsync is the caller's). Used by journal recovery; checkpoints go through the writer thread.
   */
  async writeFiles(entry: { id: string; data: Buffer; envelope: Envelope | null }): Promise<void> {
    const jobs = [this.writeFileAtomically(join(this.rawDir, entry.id + EXTENSION), [entry.data], true)];
    if (entry.envelope) {
      const json = Buffer.from(JSON.stringify(entry.envelope));
      jobs.push(this.writeFileAtomically(join(this.rawDir, entry.id + ENVELOPE_EXTENSION), [json], true));
    }
    await Promise.all(jobs);
  }

  /** Writes `finalPath` through a temp file and a rename (flushed first when `durable`). */
  async writeFileAtomically(finalPath: string, chunks: Uint8Array[], durable: boolean): Promise<void> {
    const tmpPath = tempPath(this.tmpDir, basename(finalPath));
    try {
      const file = await open(tmpPath, 'wx', 0o600);
      try {
        await writeAll(
          file,
          chunks,
          chunks.reduce((n, c) => n + c.length, 0),
        );
        if (durable) await file.datasync();
      } catch (err) {
        await file.close().catch(() => undefined);
        await unlink(tmpPath).catch(() => undefined);
        throw err;
      }
      await file.close();
      try {
        await rename(tmpPath, finalPath);
      } catch (err) {
        await unlink(tmpPath).catch(() => undefined);
        throw err;
      }
    } finally {
      releaseTempPath(tmpPath);
    }
  }

  /**
   * The direct path: streams a message to a temp file (never whole in memory), flushes it and its envelope
   * sidecar, renames it into `raw/` and fsyncs the directory. On failure nothing of it is left.
   */
  async putDirect(
    id: string,
    head: Uint8Array[],
    rest: AsyncIterator<Buffer | Uint8Array> | null,
    envelope: Envelope | null,
  ): Promise<{ size: number }> {
    const tmpPath = tempPath(this.tmpDir, id);
    const finalPath = join(this.rawDir, id + EXTENSION);
    let file: FileHandle | null = null;
    let created = false;
    let renamed = false;
    try {
      file = await open(tmpPath, 'wx', 0o600);
      created = true;
      const size = await this.#writeStream(file, head, rest);
      const envelopeWritten = envelope
        ? this.writeFileAtomically(
            join(this.rawDir, id + ENVELOPE_EXTENSION),
            [Buffer.from(JSON.stringify(envelope))],
            true,
          )
        : Promise.resolve();
      await Promise.all([file.datasync(), envelopeWritten]);
      const closing = file;
      file = null;
      await closing.close();
      await rename(tmpPath, finalPath);
      created = false;
      renamed = true;
      await this.syncRawDir();
      return { size };
    } catch (err) {
      if (file) await file.close().catch(() => undefined);
      if (created) await unlink(tmpPath).catch(() => undefined);
      // Not known to be durable: take it back so that a retry by the sender does not make a twin.
      if (renamed) await unlink(finalPath).catch(() => undefined);
      if (rest) await rest.return?.().catch(() => undefined);
      throw err;
    } finally {
      releaseTempPath(tmpPath);
    }
  }

  async #writeStream(
    file: FileHandle,
    head: Uint8Array[],
    rest: AsyncIterator<Buffer | Uint8Array> | null,
  ): Promise<number> {
    let pending: Uint8Array[] = [...head];
    let pendingBytes = head.reduce((n, c) => n + c.length, 0);
    let size = 0;
    while (rest) {
      const next = await rest.next();
      if (next.done) break;
      const chunk = next.value;
      if (chunk.length === 0) continue;
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= this.#writeBufferBytes || pending.length >= MAX_CHUNKS_PER_WRITE) {
        size += await writeAll(file, pending, pendingBytes);
        pending = [];
        pendingBytes = 0;
      }
    }
    if (pendingBytes > 0) size += await writeAll(file, pending, pendingBytes);
    return size;
  }

  /** Resolves once an fsync of `raw/` that started after this call has completed (group commit). */
  syncRawDir(): Promise<void> {
    if (this.#syncQueued) return this.#syncQueued;
    const start = (): Promise<void> => {
      this.#syncQueued = null;
      const running = this.#fsyncRawDir();
      this.#syncRunning = running;
      const clear = () => {
        if (this.#syncRunning === running) this.#syncRunning = null;
      };
      running.then(clear, clear);
      return running;
    };
    if (!this.#syncRunning) return start();
    const queued = this.#syncRunning.then(start, start);
    this.#syncQueued = queued;
    return queued;
  }

  async #fsyncRawDir(): Promise<void> {
    this.#rawDirHandle ??= open(this.rawDir, 'r');
    let handle: FileHandle;
    try {
      handle = await this.#rawDirHandle;
    } catch (err) {
      this.#rawDirHandle = null;
      throw err;
    }
    await handle.sync();
  }
}
