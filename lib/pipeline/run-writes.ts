import type { MessageRecords } from '../store/index.ts';

/**
 * The writes of one processing run that need not hold it up: the `processing` status, the parse, the
 * verdicts and the trace entries before the plan. With a store that applies its writes in call order
 * (`MessageRecords.ordersWrites`: SQLite), {@link add} does not wait: until {@link issue} the writes are
 * held, then handed to the store together, just before the run records its plan, so that all of them
 * commit in one transaction with the plan instead of one each (parsing and authenticating yield to the
 * event loop, which would commit whatever was written before). After {@link issue} a write is handed over
 * at once. {@link settled}, which the run awaits once its plan is recorded and before any delivery runs,
 * rejects with a write's failure, which fails the message as an awaited write would have. With any other
 * store each write is awaited in {@link add}.
 */
export class RunWrites {
  readonly #ordered: boolean;
  /** Null once issued. */
  #held: Array<() => Promise<unknown>> | null = [];
  readonly #pending: Array<Promise<unknown>> = [];

  constructor(store: Pick<MessageRecords, 'ordersWrites'>) {
    this.#ordered = store.ordersWrites === true;
  }

  async add(write: () => Promise<unknown>): Promise<void> {
    if (!this.#ordered) await write();
    else if (this.#held) this.#held.push(write);
    else this.#start(write);
  }

  /** Hands the held writes to the store, in the order they were added; later ones go at once. */
  issue(): void {
    const held = this.#held ?? [];
    this.#held = null;
    for (const write of held) this.#start(write);
  }

  /** Issues what is held, then resolves once every write added has landed; rejects with a failure among them. */
  async settled(): Promise<void> {
    this.issue();
    await Promise.all(this.#pending.splice(0));
  }

  /** Like {@link settled}, ignoring failures (for a run that has failed already). */
  async drained(): Promise<void> {
    try {
      this.issue();
    } finally {
      await Promise.allSettled(this.#pending.splice(0));
    }
  }

  #start(write: () => Promise<unknown>): void {
    const written = write();
    written.catch(() => {}); // reported by settled()
    this.#pending.push(written);
  }
}
