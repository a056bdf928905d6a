import type { Envelope } from '../kernel/index.ts';
import type { DeletableRawStore, RawPutOptions } from './types.ts';

/**
 * A {@link RawStore} in memory, for tests and `mailroom/testing`. Nothing survives the process, so it is
 * "durable" only in the sense the interface needs: `put` resolves once the bytes are kept.
 */
export class MemoryRawStore implements DeletableRawStore {
  readonly #objects = new Map<string, Buffer>();
  readonly #envelopes = new Map<string, Envelope>();

  async put(
    id: string,
    data: Buffer | AsyncIterable<Buffer | Uint8Array>,
    options: RawPutOptions = {},
  ): Promise<{ size: number }> {
    let bytes: Buffer;
    if (Buffer.isBuffer(data)) {
      bytes = Buffer.from(data);
    } else {
      const chunks: Buffer[] = [];
      for await (const chunk of data) chunks.push(Buffer.from(chunk));
      bytes = Buffer.concat(chunks);
    }
    this.#objects.set(id, bytes);
    if (options.envelope) this.#envelopes.set(id, structuredClone(options.envelope));
    return { size: bytes.length };
  }

  async get(id: string): Promise<Buffer> {
    const bytes = this.#objects.get(id);
    if (!bytes) throw new Error(`raw message not found: ${id}`);
    return Buffer.from(bytes);
  }

  async list(): Promise<string[]> {
    return [...this.#objects.keys()];
  }

  async getEnvelope(id: string): Promise<Envelope | null> {
    const env = this.#envelopes.get(id);
    return env ? structuredClone(env) : null;
  }

  /** Removes one message and its envelope; the bytes freed, 0 for an unknown id. */
  async delete(id: string): Promise<number> {
    const size = this.#objects.get(id)?.length ?? 0;
    this.#envelopes.delete(id);
    this.#objects.delete(id);
    return size;
  }
}
