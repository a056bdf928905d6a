import type { AuthVerdicts } from '../auth/index.ts';
import type { Envelope } from '../kernel/index.ts';

export interface RawPutOptions {
  /**
   * The SMTP envelope, kept durably with the bytes (never inside them) so that a message whose record was
   * lost in a crash is still routed by its real envelope, Bcc recipients included.
   */
  envelope?: Envelope;
  /**
   * The authentication verdicts computed at the end of DATA, kept with the bytes where the store can (the
   * S3 store does, so that processing elsewhere need not repeat the DNS checks). Stores may ignore it.
   */
  auth?: AuthVerdicts;
}

/** Durable storage of raw message bytes. */
export interface RawStore {
  /** Resolves only once the bytes (and the envelope, when given) are durable; rejects otherwise. */
  put(
    id: string,
    data: Buffer | AsyncIterable<Buffer | Uint8Array>,
    options?: RawPutOptions,
  ): Promise<{ size: number }>;
  /**
   * The stored bytes, in a buffer of the caller's own: the store keeps no reference to it (a caller may
   * hand it on, e.g. transfer it to a worker thread).
   */
  get(id: string): Promise<Buffer>;
  /** The envelope stored with the message, or null when none was. */
  getEnvelope(id: string): Promise<Envelope | null>;
  /** Ids of every stored message (order unspecified). */
  list(): Promise<string[]>;
}

/**
 * A raw store that can remove a message: the local ones (retention, the dev page's delete). On AWS raw mail
 * expires by the bucket's lifecycle rule instead.
 */
export interface DeletableRawStore extends RawStore {
  /**
   * Removes the message's bytes and its envelope; resolves once the removal is durable. Idempotent: an
   * unknown id removes nothing.
   * @returns the bytes freed (0 when nothing was stored).
   */
  delete(id: string): Promise<number>;
}
