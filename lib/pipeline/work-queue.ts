import { PipelineError } from './errors.ts';

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
  readonly #pending: Entry<T>[] = [];
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
    return this.#pending.length + this.#running.size;
  }

  /** Queues `id`; resolves with the worker's result. */
  push(id: string): Promise<T> {
    if (this.#closed) return Promise.reject(new PipelineError('the pipeline is closed'));
    const waiting = this.#pending.find((e) => e.id === id);
    if (waiting) return waiting.promise;
    let resolve!: (value: T) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.#pending.push({ id, promise, resolve, reject });
    this.#pump();
    return promise;
  }

  /** Whether `id` is waiting or running. */
  has(id: string): boolean {
    return this.#running.has(id) || this.#pending.some((e) => e.id === id);
  }

  /** Resolves once nothing is waiting or running. */
  idle(): Promise<void> {
    if (this.#pending.length === 0 && this.#running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Refuses new work and rejects what is still waiting; running work finishes (see `idle`). */
  close(): void {
    this.#closed = true;
    for (const e of this.#pending.splice(0)) e.reject(new PipelineError('the pipeline is closed'));
    this.#checkIdle();
  }

  #pump(): void {
    while (this.#running.size < this.#limits.concurrency) {
      const index = this.#pending.findIndex((e) => !this.#running.has(e.id));
      if (index < 0) return;
      const entry = this.#pending[index]!;
      const bytes = Math.max(0, this.#limits.sizeOf(entry.id));
      if (this.#running.size > 0 && this.#runningBytes + bytes > this.#limits.bytes) return;
      this.#pending.splice(index, 1);
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

  #checkIdle(): void {
    if (this.#pending.length > 0 || this.#running.size > 0) return;
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }
}
