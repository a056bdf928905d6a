import { createHash } from 'node:crypto';

/**
 * The outbox key of the `seq`-th reply (1-based) a delivery sends: 32 hex characters of a SHA-256 of the
 * delivery's idempotency key, so every retry and replay of the delivery names the same replies.
 */
export function replyKey(idempotencyKey: string, seq: number): string {
  return createHash('sha256').update(`mailroom-reply\0${idempotencyKey}\0${seq}`).digest('hex').slice(0, 32);
}

/** The Message-ID of the reply with this key, on the domain of its From address. */
export function replyMessageId(key: string, domain: string): string {
  return `<${key}@${domain}>`;
}
