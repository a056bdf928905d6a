import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AttachmentStore, AttachmentUpload } from './attachment-store.ts';
import { AttachmentUploadError } from './errors.ts';

/** Attachments in memory, content-addressed like the other stores: for tests (`mailroom/testing`). */
export class MemoryAttachmentStore implements AttachmentStore {
  readonly #items = new Map<string, { bytes: Buffer; lastUsedAt: string }>();
  readonly #now: () => Date;

  constructor(options: { now?: () => Date } = {}) {
    this.#now = options.now ?? (() => new Date());
  }

  begin(): AttachmentUpload {
    const chunks: Buffer[] = [];
    const hash = createHash('sha256');
    let finished = false;
    return {
      write: async (chunk) => {
        if (finished) throw new AttachmentUploadError('write after commit or abort');
        hash.update(chunk);
        chunks.push(Buffer.from(chunk));
      },
      commit: async (sha256) => {
        if (finished) throw new AttachmentUploadError('commit after commit or abort');
        finished = true;
        const actual = hash.digest('hex');
        if (actual !== sha256)
          throw new AttachmentUploadError(`the bytes written hash to ${actual}, not ${sha256}`);
        const lastUsedAt = this.#now().toISOString();
        const existing = this.#items.get(sha256);
        if (existing) {
          existing.lastUsedAt = lastUsedAt;
          return { created: false, size: existing.bytes.length };
        }
        const bytes = Buffer.concat(chunks);
        this.#items.set(sha256, { bytes, lastUsedAt });
        return { created: true, size: bytes.length };
      },
      abort: async () => {
        finished = true;
        chunks.length = 0;
      },
    };
  }

  async open(sha256: string): Promise<Readable | null> {
    const item = this.#items.get(sha256);
    return item ? Readable.from([item.bytes]) : null;
  }

  async has(sha256: string): Promise<boolean> {
    return this.#items.has(sha256);
  }

  async delete(sha256: string): Promise<void> {
    this.#items.delete(sha256);
  }

  async *list(): AsyncIterable<{ sha256: string; size: number; lastUsedAt: string }> {
    for (const [sha256, item] of [...this.#items]) {
      yield { sha256, size: item.bytes.length, lastUsedAt: item.lastUsedAt };
    }
  }
}
