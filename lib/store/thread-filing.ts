// The threading policy of every message store, written once: in which order a parsed message's thread is
// looked up, what is saved, and when earlier messages move into its thread. A backend provides only the
// primitives ({@link ThreadStorage}): find the thread one lookup names, save a filed parse, move a thread.
// The policy is a generator of those steps, so that SQLite runs it synchronously inside one transaction
// ({@link fileInThreadSync}) and DynamoDB runs it request by request ({@link fileInThread}).
import type { ParsedMessage } from '../message/index.ts';
import { type ThreadKeys, threadKeys } from './thread-keys.ts';

/** One way of finding a stored message's thread; the store answers the thread of the first match. */
export type ThreadLookup =
  /** The first of these Message-IDs (in this order) that a stored message has as its own. */
  | { by: 'messageIds'; ids: readonly string[] }
  /** The oldest or newest stored message with this Outlook Thread-Index root, or subject + participants key. */
  | { by: 'threadIndexRoot' | 'subjectKey'; value: string; pick: 'oldest' | 'newest' };

/** A parsed message filed in its thread, as the store saves it. */
export interface FiledMessage {
  id: string;
  threadId: string;
  /** The parse, with `thread.id` the thread it was filed in. */
  parsed: ParsedMessage;
  /** What later messages will find this one by. */
  keys: ThreadKeys;
}

/** What a backend provides for threading: primitives only, no order or policy. */
export interface ThreadStorage {
  /**
   * The thread of the first stored message, other than `exceptId` and having a thread, that `lookup`
   * finds; null when there is none.
   */
  findThread(lookup: ThreadLookup, exceptId: string): Promise<string | null>;
  /**
   * Saves the parse, the summary's fields, the thread and the lookup keys of a recorded message.
   * @returns false (and keeps nothing) when the message has no record.
   */
  saveFiled(filed: FiledMessage): Promise<boolean>;
  /** Moves every message of thread `from` into thread `to`. */
  moveThread(from: string, to: string): Promise<void>;
}

/** {@link ThreadStorage} of a backend that answers synchronously (inside one transaction). */
export type SyncThreadStorage = {
  [K in keyof ThreadStorage]: (
    ...args: Parameters<ThreadStorage[K]>
  ) => Awaited<ReturnType<ThreadStorage[K]>>;
};

/** The lookups that file a message, in the order they are tried. Pure. */
export function threadLookups(keys: ThreadKeys): ThreadLookup[] {
  const lookups: ThreadLookup[] = [];
  // References, In-Reply-To, own Message-ID: the first of them (in that order) that a stored message has.
  if (keys.lookupIds.length > 0) lookups.push({ by: 'messageIds', ids: keys.lookupIds });
  if (keys.threadIndexRoot !== null)
    lookups.push({ by: 'threadIndexRoot', value: keys.threadIndexRoot, pick: 'oldest' });
  // Only a reply that names no earlier message at all falls back to subject + participants.
  const unreferenced = keys.lookupIds.length === (keys.messageId ? 1 : 0);
  if (unreferenced && keys.prefixedSubject && keys.subjectKey !== null) {
    lookups.push({ by: 'subjectKey', value: keys.subjectKey, pick: 'newest' });
  }
  return lookups;
}

type FilingStep =
  | { step: 'find'; lookup: ThreadLookup }
  | { step: 'save'; filed: FiledMessage }
  | { step: 'move'; from: string; to: string };

/** The policy (see `Threads.saveParsed`), as the steps it asks the storage for. */
function* filing(id: string, parsed: ParsedMessage): Generator<FilingStep, { threadId: string }, unknown> {
  const keys = threadKeys(parsed);
  let threadId = parsed.thread.id;
  for (const lookup of threadLookups(keys)) {
    const found = yield { step: 'find', lookup };
    if (typeof found === 'string') {
      threadId = found;
      break;
    }
  }
  const saved = yield {
    step: 'save',
    filed: { id, threadId, parsed: { ...parsed, thread: { id: threadId } }, keys },
  };
  if (saved === true && keys.rootedHere !== null && keys.rootedHere !== threadId) {
    // replies that arrived before this message started a thread named after it: they belong to ours
    yield { step: 'move', from: keys.rootedHere, to: threadId };
  }
  return { threadId };
}

/** Runs one step on the storage: its answer, or (asynchronous storage) a promise of it. */
function perform(storage: ThreadStorage | SyncThreadStorage, id: string, s: FilingStep): unknown {
  if (s.step === 'find') return storage.findThread(s.lookup, id);
  if (s.step === 'save') return storage.saveFiled(s.filed);
  return storage.moveThread(s.from, s.to);
}

/** Files a parsed message in its thread on an asynchronous backend. */
export async function fileInThread(
  storage: ThreadStorage,
  id: string,
  parsed: ParsedMessage,
): Promise<{ threadId: string }> {
  const steps = filing(id, parsed);
  let next = steps.next();
  while (!next.done) next = steps.next(await perform(storage, id, next.value));
  return next.value;
}

/** Files a parsed message in its thread on a synchronous backend (all of it in the caller's transaction). */
export function fileInThreadSync(
  storage: SyncThreadStorage,
  id: string,
  parsed: ParsedMessage,
): { threadId: string } {
  const steps = filing(id, parsed);
  let next = steps.next();
  while (!next.done) next = steps.next(perform(storage, id, next.value));
  return next.value;
}
