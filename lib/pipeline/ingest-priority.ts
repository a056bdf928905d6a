import { Fifo } from './fifo.ts';

export interface IngestPriorityOptions {
  /** Called with each id when it may be processed. */
  release: (id: string) => void;
  /** Messages queued or being processed now. */
  load: () => number;
  /** Messages processed at once when mail is not arriving in a burst (`delivery.concurrency`). */
  concurrency: number;
  /** The longest a message waits behind a burst; 0 releases at once. @default 2000 */
  maxDelayMs?: number;
  /** More messages than this being stored at once is a burst. @default 4 */
  burstStores?: number;
}

/**
 * Gives accepting — the durable write and the `250` — the CPU during a burst without starving processing
 * under steady load. A new message is released at once while processing has spare capacity (fewer than
 * `concurrency` messages queued or running), so at a steady rate that processing keeps up with, messages
 * are processed as they arrive. During a burst (more than `burstStores` messages being stored at once)
 * processing takes a fair share instead of stopping: half its concurrency (at least one message), the rest
 * wait here. A message
 * is released anyway once it has waited `maxDelayMs`. Messages are durable and recorded before they get
 * here: a crash while they wait loses nothing (recovery processes them).
 */
export class IngestPriorityGate {
  /** Messages waiting, oldest first. */
  readonly #waiting = new Fifo<{ id: string; since: number }>();
  readonly #options: Required<IngestPriorityOptions>;
  #storing = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(options: IngestPriorityOptions) {
    this.#options = { maxDelayMs: 2000, burstStores: 4, ...options };
  }

  /** A message is arriving (call when its DATA starts being stored); pair with {@link stored}. */
  arrival(): void {
    this.#storing++;
  }

  /** The message announced by {@link arrival} is stored (or failed). */
  stored(): void {
    this.#storing = Math.max(0, this.#storing - 1);
    if (this.#storing === this.#options.burstStores) this.#pump(); // the burst ended
  }

  /** Queues `id` for release. */
  add(id: string): void {
    if (this.#options.maxDelayMs === 0) {
      this.#release(id);
      return;
    }
    this.#waiting.push({ id, since: performance.now() });
    this.#pump();
  }

  /** A processing run ended: a slot may be free. */
  settled(): void {
    if (this.size > 0) this.#pump();
  }

  /** Releases everything now (drain, tests). */
  flush(): void {
    this.#disarm();
    for (const w of this.#waiting.takeAll()) this.#release(w.id);
  }

  /** Forgets what waits (close: those messages are processed by the next start's recovery). */
  clear(): string[] {
    this.#disarm();
    return this.#waiting.takeAll().map((w) => w.id);
  }

  get size(): number {
    return this.#waiting.size;
  }

  /** How many messages processing may hold now. */
  #limit(): number {
    const { burstStores, concurrency } = this.#options;
    return this.#storing > burstStores ? Math.ceil(concurrency / 2) : concurrency;
  }

  #pump(): void {
    const { load, maxDelayMs } = this.#options;
    const now = performance.now();
    for (let oldest = this.#waiting.peek(); oldest; oldest = this.#waiting.peek()) {
      const overdue = now - oldest.since >= maxDelayMs;
      if (!overdue && load() >= this.#limit()) break;
      this.#waiting.shift();
      this.#release(oldest.id);
    }
    this.#arm(now);
  }

  /** Wakes up when the oldest waiting message is due. */
  #arm(now: number): void {
    this.#disarm();
    const oldest = this.#waiting.peek();
    if (!oldest) return;
    const due = Math.max(1, oldest.since + this.#options.maxDelayMs - now);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#pump();
    }, due);
    this.#timer.unref?.();
  }

  #disarm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #release(id: string): void {
    this.#options.release(id);
  }
}
