import type { AuthVerdicts } from '../auth/index.ts';
import type { Envelope } from '../kernel/index.ts';
import type { RawStore } from '../store/index.ts';
import { cleanEnvelope } from './recipients.ts';

/** A message handed over by an ingress (SMTP, the dev HTTP API, `mailroom/testing`). */
export interface AcceptInput {
  envelope: Envelope;
  /** Trace headers (Received…) stored in front of the body. */
  prefix?: Buffer;
  /** The message bytes as received. */
  body: AsyncIterable<Buffer | Uint8Array> | Buffer;
  /** Verdicts the ingress already computed (end-of-DATA check): stored, and not computed again. */
  auth?: AuthVerdicts;
}

function asBuffer(chunk: Buffer | Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** How much of an accepted message {@link storeRaw} may keep in memory for processing. */
export interface KeepLimits {
  /** Bytes of a message given whole (a Buffer `body`, already in memory): kept when it fits. */
  whole: number;
  /**
   * Bytes of a streamed message: kept when it fits. A bigger one is not gathered (its chunks go to the raw
   * store as they come, which writes a big message straight to a file): it is read back to be processed.
   */
  streamed: number;
}

/** What {@link storeRaw} stored, and the bytes it kept for processing (null when it kept none). */
export interface StoredRaw {
  size: number;
  bytes: Buffer | null;
  /**
   * True when `bytes` are a copy of storeRaw's own, shared with nobody (not the caller's body, not the raw
   * store's journal): whoever processes them may take them over (transfer them to a worker).
   */
  owned: boolean;
}

/**
 * Stores the message durably (prefix + body, envelope beside it) and keeps its bytes for processing when
 * they fit in `keep`, so they need not be read back.
 */
export async function storeRaw(
  rawStore: RawStore,
  id: string,
  input: AcceptInput,
  keep: KeepLimits,
): Promise<StoredRaw> {
  const { prefix, body } = input;
  const envelope = cleanEnvelope(input.envelope);
  if (Buffer.isBuffer(body)) {
    const data = prefix?.length ? Buffer.concat([prefix, body]) : body;
    const { size } = await rawStore.put(id, data, { envelope });
    return { size, bytes: data.length <= keep.whole ? data : null, owned: false };
  }
  const keepUpTo = Math.min(keep.whole, keep.streamed);
  let kept: Buffer[] | null = [];
  let keptBytes = 0;
  const keepChunk = (chunk: Buffer) => {
    if (!kept) return;
    keptBytes += chunk.length;
    if (keptBytes > keepUpTo) kept = null;
    else kept.push(chunk);
  };
  const data = (async function* () {
    if (prefix?.length) {
      keepChunk(prefix);
      yield prefix;
    }
    for await (const chunk of body) {
      const buffer = asBuffer(chunk);
      keepChunk(buffer);
      yield buffer;
    }
  })();
  const { size } = await rawStore.put(id, data, { envelope });
  const bytes = kept ? Buffer.concat(kept as Buffer[]) : null;
  return bytes && bytes.length === size ? { size, bytes, owned: true } : { size, bytes: null, owned: false };
}
