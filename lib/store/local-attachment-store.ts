import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { AttachmentStore, AttachmentUpload } from './attachment-store.ts';
import { AttachmentUploadError } from './errors.ts';
import { fsyncPath, writeAll } from './fs-durable.ts';
import { releaseTempPath, removeStaleTemps, tempPath } from './temp-files.ts';

const SHA256 = /^[0-9a-f]{64}$/;

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

/**
 * Attachments as files, content-addressed: `<dataDir>/attachments/<aa>/<sha256>` (`aa` the hash's first two
 * hex digits). An upload is written to a temp file in `attachments/` (the same file system), fsync'd,
 * checked against its hash and renamed into place, the directory fsync'd: a file under its hash is always
 * complete. A crash mid-write leaves only a temp file, removed when the store is next opened. Committing
 * content that is already there removes the temp file and touches the existing file's mtime (its
 * `lastUsedAt`, which retention counts from).
 */
export class LocalAttachmentStore implements AttachmentStore {
  /** `<dataDir>/attachments` */
  readonly dir: string;
  readonly #now: () => Date;
  #ready: Promise<void> | null = null;
  readonly #removeTemps: boolean;

  /**
   * @param options.removeTemps whether {@link ready} removes the temp files a crash left: false in a
   *   processing worker thread, whose process's main thread did it (another thread's temp files of this
   *   process look unused from here). @default true
   */
  constructor(dataDir: string, options: { now?: () => Date; removeTemps?: boolean } = {}) {
    this.dir = join(dataDir, 'attachments');
    this.#now = options.now ?? (() => new Date());
    this.#removeTemps = options.removeTemps ?? true;
  }

  /** Creates the directory and removes temp files a crash left (once, before the first use). */
  ready(): Promise<void> {
    this.#ready ??= (async () => {
      await mkdir(this.dir, { recursive: true });
      if (this.#removeTemps) await removeStaleTemps(this.dir);
    })();
    return this.#ready;
  }

  pathOf(sha256: string): string {
    if (!SHA256.test(sha256)) throw new AttachmentUploadError(`not a hex SHA-256: ${sha256.slice(0, 80)}`);
    return join(this.dir, sha256.slice(0, 2), sha256);
  }

  begin(): AttachmentUpload {
    return new LocalUpload(this);
  }

  /** Moves a verified temp file into place, or drops it when the content is already there. */
  async place(temp: string, sha256: string, size: number): Promise<{ created: boolean; size: number }> {
    const final = this.pathOf(sha256);
    const existing = await stat(final).catch((err: unknown) => {
      if (isMissing(err)) return null;
      throw err;
    });
    if (existing) {
      await unlink(temp).catch(() => {});
      const now = this.#now();
      await utimes(final, now, now);
      return { created: false, size: existing.size };
    }
    const sub = join(this.dir, sha256.slice(0, 2));
    await mkdir(sub, { recursive: true });
    await rename(temp, final);
    await fsyncPath(sub);
    return { created: true, size };
  }

  async open(sha256: string): Promise<Readable | null> {
    if (!SHA256.test(sha256)) return null;
    const handle = await open(this.pathOf(sha256), 'r').catch((err: unknown) => {
      if (isMissing(err)) return null;
      throw err;
    });
    return handle ? createReadStream('', { fd: handle }) : null;
  }

  async has(sha256: string): Promise<boolean> {
    if (!SHA256.test(sha256)) return false;
    return stat(this.pathOf(sha256)).then(
      () => true,
      () => false,
    );
  }

  async delete(sha256: string): Promise<void> {
    if (!SHA256.test(sha256)) return;
    await unlink(this.pathOf(sha256)).catch((err: unknown) => {
      if (!isMissing(err)) throw err;
    });
  }

  async *list(): AsyncIterable<{ sha256: string; size: number; lastUsedAt: string }> {
    await this.ready();
    const subs = (await readdir(this.dir)).filter((name) => /^[0-9a-f]{2}$/.test(name)).sort();
    for (const sub of subs) {
      const names = await readdir(join(this.dir, sub)).catch(() => [] as string[]);
      for (const name of names.sort()) {
        if (!SHA256.test(name) || !name.startsWith(sub)) continue;
        const info = await stat(join(this.dir, sub, name)).catch(() => null);
        if (info?.isFile()) yield { sha256: name, size: info.size, lastUsedAt: info.mtime.toISOString() };
      }
    }
  }
}

/** One upload: a temp file written chunk by chunk, its hash computed as it goes. */
class LocalUpload implements AttachmentUpload {
  readonly #store: LocalAttachmentStore;
  readonly #hash: Hash = createHash('sha256');
  #size = 0;
  #temp: string | null = null;
  #file: Promise<FileHandle> | null = null;
  #finished = false;

  constructor(store: LocalAttachmentStore) {
    this.#store = store;
  }

  #handle(): Promise<FileHandle> {
    this.#file ??= this.#store.ready().then(() => {
      this.#temp = tempPath(this.#store.dir, 'upload');
      return open(this.#temp, 'wx', 0o600);
    });
    return this.#file;
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.#finished) throw new AttachmentUploadError('write after commit or abort');
    const file = await this.#handle();
    this.#hash.update(chunk);
    this.#size += chunk.length;
    await writeAll(file, [chunk], chunk.length);
  }

  async commit(sha256: string): Promise<{ created: boolean; size: number }> {
    if (this.#finished) throw new AttachmentUploadError('commit after commit or abort');
    const file = await this.#handle();
    this.#finished = true;
    try {
      const actual = this.#hash.digest('hex');
      if (actual !== sha256) {
        throw new AttachmentUploadError(`the bytes written hash to ${actual}, not ${sha256}`);
      }
      await file.sync();
      await file.close();
      return await this.#store.place(this.#temp!, sha256, this.#size);
    } catch (err) {
      await this.#discard(file);
      throw err;
    } finally {
      releaseTempPath(this.#temp!);
    }
  }

  async abort(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    if (!this.#file) return;
    try {
      await this.#discard(await this.#file);
    } catch {
      // never throws
    } finally {
      if (this.#temp) releaseTempPath(this.#temp);
    }
  }

  async #discard(file: FileHandle): Promise<void> {
    await file.close().catch(() => {});
    if (this.#temp) await unlink(this.#temp).catch(() => {});
  }
}
