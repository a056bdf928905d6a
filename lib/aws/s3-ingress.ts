import type { Envelope, Logger } from '../kernel/index.ts';
import type { AcceptInput } from '../smtp/index.ts';
import { newMessageId } from '../store/index.ts';
import type { S3RawStore } from './s3-raw-store.ts';

export interface S3AcceptorOptions {
  store: S3RawStore;
  /** @default no logging */
  logger?: Logger;
  /** @default newMessageId */
  newId?: () => string;
}

/** `accept()` for `createSmtpIngress` that only stores to S3, plus a way to wait for what is in flight. */
export interface S3Acceptor {
  accept(input: AcceptInput): Promise<{ id: string }>;
  /** Messages being stored right now. */
  readonly inFlight: number;
  /** Resolves once every message being stored has been stored or given up (for a clean stop). */
  drain(): Promise<void>;
}

/**
 * The SMTP ingress's `accept()` for the self-hosted ingress on AWS: the message (our trace headers, then
 * the bytes as received) goes to S3 as `<prefix><id>.eml` with its envelope and end-of-DATA verdicts, and
 * nothing else happens here — the S3 event starts processing elsewhere. It resolves with the id only once
 * S3 has confirmed the object, so `250` means stored; any failure rejects (the ingress answers
 * `451 4.3.0`) and leaves nothing behind.
 */
export function createS3Acceptor(options: S3AcceptorOptions): S3Acceptor {
  const { store } = options;
  const newId = options.newId ?? newMessageId;
  const logger = options.logger;
  const pending = new Set<Promise<unknown>>();

  async function storeMessage(input: AcceptInput): Promise<{ id: string }> {
    const id = newId();
    const { prefix, body } = input;
    const data = prefix.length
      ? (async function* () {
          yield prefix;
          yield* body;
        })()
      : body;
    const { size } = await store.put(id, data, {
      envelope: cleanEnvelope(input.envelope),
      ...(input.auth ? { auth: input.auth } : {}),
      signal: input.signal,
    });
    logger?.debug('message stored in S3', { id, key: store.keyFor(id), size });
    return { id };
  }

  return {
    accept(input) {
      const stored = storeMessage(input);
      const settled = stored.then(
        () => undefined,
        () => undefined,
      );
      pending.add(settled);
      void settled.then(() => pending.delete(settled));
      return stored;
    },
    get inFlight() {
      return pending.size;
    },
    async drain() {
      while (pending.size) await Promise.all(pending);
    },
  };
}

function cleanEnvelope(envelope: Envelope): Envelope {
  const clean: Envelope = { mailFrom: envelope.mailFrom, rcptTo: [...envelope.rcptTo] };
  if (envelope.remoteAddress !== undefined) clean.remoteAddress = envelope.remoteAddress;
  if (envelope.helo !== undefined) clean.helo = envelope.helo;
  return clean;
}
