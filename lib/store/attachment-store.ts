import type { Readable } from 'node:stream';

// Attachments are stored once, content-addressed by the SHA-256 of their decoded bytes: a second message
// with the same file adds no bytes. Locally they are files under the data directory; on AWS, S3 objects
// under `attachments/`. Which messages reference an attachment is known from the messages' parsed
// attachment lists (retention deletes only attachments no remaining message references).

/** One attachment being written: chunks in order, then `commit` with the hash of all of them, or `abort`. */
export interface AttachmentUpload {
  /** Resolves when the chunk may be followed by the next (back-pressure). */
  write(chunk: Buffer): Promise<void>;
  /**
   * Makes the bytes readable under `sha256` (the hex SHA-256 the caller computed over the chunks; the store
   * checks it). When the content is already stored, nothing is added (`created: false`) and the existing
   * copy is marked as used now (so that age-based expiry counts from the last message that referenced it).
   */
  commit(sha256: string): Promise<{ created: boolean; size: number }>;
  /** Drops what was written; never throws. */
  abort(): Promise<void>;
}

/** Content-addressed storage of decoded attachment bytes. */
export interface AttachmentStore {
  begin(): AttachmentUpload;
  /** The stored bytes, streamed; null when no content has this hash. */
  open(sha256: string): Promise<Readable | null>;
  has(sha256: string): Promise<boolean>;
  /** Removes the content (retention; the caller checked that no message references it). */
  delete(sha256: string): Promise<void>;
  /** Every stored hash with its size and when it was last written or committed again (ISO 8601). */
  list(): AsyncIterable<{ sha256: string; size: number; lastUsedAt: string }>;
}
