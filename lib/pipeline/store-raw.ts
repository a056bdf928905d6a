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

/**
 * Stores the message durably (prefix + body, envelope beside it) and keeps its bytes for processing when
 * they fit in `keepUpTo` bytes, so they need not be read back; a bigger streamed message is not held.
 */
export async function storeRaw(
  rawStore: RawStore,
  id: string,
  input: AcceptInput,
  keepUpTo: number,
): Promise<{ size: number; bytes: Buffer | null }> {
  const { prefix, body } = input;
  const envelope = cleanEnvelope(input.envelope);
  if (Buffer.isBuffer(body)) {
    const data = prefix?.length ? Buffer.concat([prefix, body]) : body;
    const { size } = await rawStore.put(id, data, { envelope });
    return { size, bytes: data.length <= keepUpTo ? data : null };
  }
  let kept: Buffer[] | null = [];
  let keptBytes = 0;
  const keep = (chunk: Buffer) => {
    if (!kept) return;
    keptBytes += chunk.length;
    if (keptBytes > keepUpTo) kept = null;
    else kept.push(chunk);
  };
  const data = (async function* () {
    if (prefix?.length) {
      keep(prefix);
      yield prefix;
    }
    for await (const chunk of body) {
      const buffer = asBuffer(chunk);
      keep(buffer);
      yield buffer;
    }
  })();
  const { size } = await rawStore.put(id, data, { envelope });
  const bytes = kept ? Buffer.concat(kept as Buffer[]) : null;
  return { size, bytes: bytes && bytes.length === size ? bytes : null };
}
