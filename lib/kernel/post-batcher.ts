/** Where a {@link PostBatcher} posts: a `Worker` or a `MessagePort` (`postMessage(value, transfer)`). */
export interface PostTarget {
  postMessage(value: unknown, transfer?: readonly ArrayBuffer[]): void;
}

/**
 * Collects the messages posted to a thread during one turn of the event loop and posts them as one array
 * at its end (`setImmediate`), in order. Every `postMessage` wakes the other thread and, on a shared core,
 * usually hands it the CPU at once; a processed message used to cost about ten of them each way. The
 * receiver reads each array with {@link unbatch}.
 *
 * A batch that cannot be posted (a value that cannot be cloned) is posted message by message; a message
 * that still cannot be posted is dropped and reported to `onError`, never thrown into the event loop.
 */
export class PostBatcher<T> {
  readonly #target: PostTarget;
  readonly #onError: (err: unknown, message: T) => void;
  #messages: T[] = [];
  #transfers: ArrayBuffer[][] = [];
  #scheduled: NodeJS.Immediate | null = null;

  constructor(target: PostTarget, onError: (err: unknown, message: T) => void) {
    this.#target = target;
    this.#onError = onError;
  }

  /** Posts `message` (with the ArrayBuffers to transfer) at the end of this turn. */
  post(message: T, transfer: ArrayBuffer[] = []): void {
    this.#messages.push(message);
    this.#transfers.push(transfer);
    this.#scheduled ??= setImmediate(() => this.flush());
  }

  /** Posts what is collected now (before the port closes). */
  flush(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = null;
    const messages = this.#messages;
    const transfers = this.#transfers;
    if (messages.length === 0) return;
    this.#messages = [];
    this.#transfers = [];
    try {
      this.#target.postMessage(messages, transfers.flat());
    } catch {
      // Cloning failed before anything was transferred: post one by one, so only the culprit is lost.
      for (const [i, message] of messages.entries()) {
        try {
          this.#target.postMessage([message], transfers[i]);
        } catch (err) {
          this.#onError(err, message);
        }
      }
    }
  }
}

/** The messages of one post: an array from a {@link PostBatcher}, or a single message posted alone. */
export function unbatch<T>(data: T | T[]): T[] {
  return Array.isArray(data) ? data : [data];
}
