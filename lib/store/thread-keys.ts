import type { ParsedMessage } from '../message/index.ts';
import { normalizeSubject, threadId } from '../message/index.ts';

/** What a store looks a message's thread up by. */
export interface ThreadKeys {
  /** The message's own Message-ID (with brackets), or null. */
  messageId: string | null;
  /** Ids it refers to, root first: References, then In-Reply-To, then its own Message-ID (a resent copy). */
  lookupIds: string[];
  /** Hex of the first 22 bytes of an Outlook `Thread-Index` (the conversation's root), or null. */
  threadIndexRoot: string | null;
  /** Normalized subject + participants, hashed as {@link threadId} does; null for an empty subject. */
  subjectKey: string | null;
  /** The subject carries a reply or forward prefix (`Re:`, `AW:`, `SV:`, `Fwd:`, …). */
  prefixedSubject: boolean;
  /** The thread a message rooted at this Message-ID would get from the parser (replies that came first). */
  rootedHere: string | null;
}

/** Ids looked up per message: the first of References is the root; the last ones are the nearest. */
const MAX_LOOKUP_IDS = 100;

/** A `Thread-Index` is base64 of a 22-byte header block followed by one 5-byte block per reply. */
function threadIndexRoot(value: string | undefined): string | null {
  if (!value) return null;
  const text = value.replace(/\s+/g, '');
  if (text.length > 4096 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length < 22 || (bytes.length - 22) % 5 !== 0) return null;
  return bytes.subarray(0, 22).toString('hex');
}

/** The keys a message is filed and found by. Pure. */
export function threadKeys(parsed: ParsedMessage): ThreadKeys {
  const refs = parsed.references;
  const limited =
    refs.length > MAX_LOOKUP_IDS ? [refs[0]!, ...refs.slice(refs.length - (MAX_LOOKUP_IDS - 1))] : refs;
  const lookupIds = [...limited];
  if (parsed.inReplyTo) lookupIds.push(parsed.inReplyTo);
  if (parsed.messageId) lookupIds.push(parsed.messageId);
  const subject = parsed.subject ?? '';
  const normalized = normalizeSubject(subject);
  const plain = subject.slice(0, 2000).replace(/\s+/g, ' ').trim().toLowerCase();
  const bare = { references: [], inReplyTo: null, messageId: null, subject: parsed.subject };
  return {
    messageId: parsed.messageId,
    lookupIds: [...new Set(lookupIds)],
    threadIndexRoot: threadIndexRoot(parsed.headers.find((h) => h.key === 'thread-index')?.value),
    subjectKey: normalized ? threadId({ ...parsed, ...bare }) : null,
    prefixedSubject: normalized !== plain,
    rootedHere: parsed.messageId ? threadId({ ...parsed, ...bare, messageId: parsed.messageId }) : null,
  };
}
