import { createHash } from 'node:crypto';
import { parseMessage } from '../message/index.ts';
import type { OutboundContext } from './types.ts';

/**
 * The context of a message sent without one (a transport used directly): Message-ID and Subject from its
 * headers, the outbox key from a hash of its Message-ID (or of its bytes when it has none), the date from
 * its Date header, else `now()`.
 */
export async function contextOf(
  raw: Buffer,
  given: OutboundContext | undefined,
  now: () => Date = () => new Date(),
): Promise<OutboundContext> {
  if (given) return given;
  const parsed = await parseMessage(raw);
  const digest = (s: string | Buffer) => createHash('sha256').update(s).digest('hex').slice(0, 32);
  const id = digest(parsed.messageId ?? raw);
  return {
    id,
    messageId: parsed.messageId ?? `<${id}@mailroom.invalid>`,
    inReplyTo: null,
    subject: parsed.subject,
    date: parsed.date ? new Date(parsed.date) : now(),
  };
}
