import { createHash } from 'node:crypto';
import type { ParsedMessage } from './types.ts';

/** The fields a thread id is computed from. */
export type ThreadFields = Pick<
  ParsedMessage,
  'references' | 'inReplyTo' | 'messageId' | 'subject' | 'from' | 'to' | 'cc'
>;

// Reply/forward prefixes in several languages, optionally counted ("RE[2]:", "Re(3):"), repeated.
const PREFIX =
  /^\s*(?:(?:re|fwd?|aw|wg|sv|vs|antw|tr|rif|r|odp|res|enc)\s*(?:\[\d{1,4}\]|\(\d{1,4}\))?\s*[:：]\s*)+/i;

/** Strips reply and forward prefixes (Re:, Fwd:, Fw:, AW:, WG:, SV:, VS:, RE[2]:, …), lower-cases and collapses whitespace. */
export function normalizeSubject(subject: string | null): string {
  let s = (subject ?? '').slice(0, 2000);
  for (let i = 0; i < 20; i++) {
    const stripped = s.replace(PREFIX, '');
    if (stripped === s) break;
    s = stripped;
  }
  return s.replace(/\s+/g, ' ').trim().toLowerCase();
}

function normalizeId(id: string): string {
  return id.trim().replace(/^<|>$/g, '').trim();
}

/**
 * A stable, opaque, URL-safe thread id: the first References entry (the thread root) if any, else
 * In-Reply-To, else the message's own Message-ID, else the normalized subject plus the sorted
 * participant addresses. So a thread's first message and every reply that keeps the References chain
 * share the id. The key is hashed: 24 hex characters of its SHA-256.
 *
 * @param parsed - The parse (or just the fields the id depends on).
 */
export function threadId(parsed: ThreadFields): string {
  let key: string | null = null;
  const root = parsed.references.map(normalizeId).find((id) => id !== '');
  if (root) key = `id:${root}`;
  else if (parsed.inReplyTo && normalizeId(parsed.inReplyTo)) key = `id:${normalizeId(parsed.inReplyTo)}`;
  else if (parsed.messageId && normalizeId(parsed.messageId)) key = `id:${normalizeId(parsed.messageId)}`;
  if (key === null) {
    const participants = new Set<string>();
    for (const a of [parsed.from, ...parsed.to, ...parsed.cc]) {
      if (a?.address) participants.add(a.address.trim().toLowerCase());
    }
    key = `subject:${normalizeSubject(parsed.subject)}\n${[...participants].sort().join(',')}`;
  }
  return createHash('sha256').update(key).digest('hex').slice(0, 24);
}
