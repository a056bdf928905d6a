import { PipelineError } from './errors.ts';

interface Entry<T> {
  id: string;
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

/**
 * An in-process queue of message ids with `concurrency` workers. One id never runs twice at once: a request
 * for an id that is waiting joins that request; one for an id that is running waits for the run to end.
 */
export class WorkQueue<T> {
  readonly #pending: Entry<T>[] = [];
  readonly #running = new Set<string>();
  readonly #idleWaiters: Array<() => void> = [];
  #closed = false;

  /** @param onSettled called after each run ends, once its slot is free. */
  constructor(
    readonly concurrency: number,
    readonly worker: (id: string) => Promise<T>,
    readonly onSettled: () => void = () => {},
  ) {}

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
    while (this.#running.size < this.concurrency) {
      const index = this.#pending.findIndex((e) => !this.#running.has(e.id));
      if (index < 0) return;
      const [entry] = this.#pending.splice(index, 1);
      if (!entry) return;
      this.#running.add(entry.id);
      Promise.resolve()
        .then(() => this.worker(entry.id))
        .then(entry.resolve, entry.reject)
        .finally(() => {
          this.#running.delete(entry.id);
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
