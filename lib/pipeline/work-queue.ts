import { PipelineError } from './errors.ts';
import { Fifo } from './fifo.ts';

interface Entry<T> {
  id: string;
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

/** What a {@link WorkQueue} runs at once. */
export interface WorkQueueLimits {
  /** Runs at once. */
  concurrency: number;
  /**
   * The most bytes (as {@link sizeOf} counts them) of the runs going at once. A run that would pass it
   * waits until the others have ended (and then starts alone, however big). @default Infinity
   */
  bytes?: number;
  /** The bytes one run holds (a message's size), read when it starts. @default 0 */
  sizeOf?: (id: string) => number;
}

/**
 * An in-process queue of message ids with `concurrency` workers and a budget of bytes in flight. One id
 * never runs twice at once: a request for an id that is waiting joins that request; one for an id that is
 * running waits for the run to end. First come, first started: a big message waiting for room holds back
 * the small ones behind it, so it is never starved.
 */
export class WorkQueue<T> {
  /** Waiting requests, oldest first: pushing and starting are O(1) however long the backlog. */
  readonly #pending = new Fifo<Entry<T>>();
  /**
   * Requests that reached the front while a run of their id was going on: they start, oldest first, as soon
   * as that run ends, before anything behind them. At most one per running id (an id waits only once).
   */
  readonly #blocked: Entry<T>[] = [];
  /** Every waiting request (in {@link #pending} or {@link #blocked}), by id. */
  readonly #waiting = new Map<string, Entry<T>>();
  readonly #running = new Set<string>();
  readonly #idleWaiters: Array<() => void> = [];
  readonly #limits: Required<WorkQueueLimits>;
  #runningBytes = 0;
  #closed = false;

  /** @param onSettled called after each run ends, once its slot is free. */
  constructor(
    limits: WorkQueueLimits,
    readonly worker: (id: string) => Promise<T>,
    readonly onSettled: () => void = () => {},
  ) {
    this.#limits = { bytes: Number.POSITIVE_INFINITY, sizeOf: () => 0, ...limits };
  }

  /** Ids waiting or running. */
  get load(): number {
    return this.#waiting.size + this.#running.size;
  }

  /** Queues `id`; resolves with the worker's result. */
  push(id: string): Promise<T> {
    if (this.#closed) return Promise.reject(new PipelineError('the pipeline is closed'));
    const waiting = this.#waiting.get(id);
    if (waiting) return waiting.promise;
    let resolve!: (value: T) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry = { id, promise, resolve, reject };
    this.#pending.push(entry);
    this.#waiting.set(id, entry);
    this.#pump();
    return promise;
  }

  /** Whether `id` is waiting or running. */
  has(id: string): boolean {
    return this.#running.has(id) || this.#waiting.has(id);
  }

  /** Resolves once nothing is waiting or running. */
  idle(): Promise<void> {
    if (this.#waiting.size === 0 && this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Refuses new work and rejects what is still waiting; running work finishes (see `idle`). */
  close(): void {
    this.#closed = true;
    const waiting = [...this.#waiting.values()];
    this.#pending.clear();
    this.#blocked.length = 0;
    this.#waiting.clear();
    for (const e of waiting) e.reject(new PipelineError('the pipeline is closed'));
    this.#checkIdle();
  }

  #pump(): void {
    while (this.#running.size < this.#limits.concurrency) {
      const entry = this.#nextRunnable();
      if (!entry) return;
      const bytes = Math.max(0, this.#limits.sizeOf(entry.id));
      if (this.#running.size > 0 && this.#runningBytes + bytes > this.#limits.bytes) return;
      this.#take(entry);
      this.#running.add(entry.id);
      this.#runningBytes += bytes;
      Promise.resolve()
        .then(() => this.worker(entry.id))
        .then(entry.resolve, entry.reject)
        .finally(() => {
          this.#running.delete(entry.id);
          this.#runningBytes -= bytes;
          this.#pump();
          this.#checkIdle();
          this.onSettled();
        });
    }
  }

  /** The oldest request that may start now (no run of its id going on), left where it waits. */
  #nextRunnable(): Entry<T> | undefined {
    for (const entry of this.#blocked) if (!this.#running.has(entry.id)) return entry;
    for (let entry = this.#pending.peek(); entry; entry = this.#pending.peek()) {
      if (!this.#running.has(entry.id)) return entry;
      this.#blocked.push(entry);
      this.#pending.shift();
    }
    return undefined;
  }

  /** Takes `entry`, which {@link #nextRunnable} just returned, out of the waiting requests. */
  #take(entry: Entry<T>): void {
    this.#waiting.delete(entry.id);
    const blocked = this.#blocked.indexOf(entry);
    if (blocked >= 0) this.#blocked.splice(blocked, 1);
    else this.#pending.shift();
  }

  #checkIdle(): void {
    if (this.#waiting.size > 0 || this.#running.size > 0) return;
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }
}
