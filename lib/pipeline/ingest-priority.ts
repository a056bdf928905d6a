/**
 * Holds newly accepted messages back from processing while mail keeps arriving, so that accepting —
 * the durable write and the `250` — has the CPU during a burst. A message is released once no message is
 * being stored and arrivals have paused for `quietMs`, or once it has waited `maxDelayMs`, so under sustained load processing runs at most
 * `maxDelayMs` behind and never starves. Messages are durable and recorded before they get here: a crash
 * while they wait loses nothing (recovery processes them).
 */
export class IngestPriorityGate {
  readonly #waiting: Array<{ id: string; since: number }> = [];
  readonly #release: (id: string) => void;
  readonly #quietMs: number;
  readonly #maxDelayMs: number;
  #lastArrival = 0;
  #inFlight = 0;
  #timer: NodeJS.Timeout | null = null;

  /**
   * @param release called with each id when it may be processed.
   * @param maxDelayMs the longest a message waits; 0 releases at once. @default 2000
   * @param quietMs the pause in arrivals that releases everything. @default 20
   */
  constructor(release: (id: string) => void, maxDelayMs = 2000, quietMs = 20) {
    this.#release = release;
    this.#maxDelayMs = maxDelayMs;
    this.#quietMs = quietMs;
  }

  /** A message is arriving (call when its DATA starts being stored); pair with {@link stored}. */
  arrival(): void {
    this.#inFlight++;
    this.#lastArrival = performance.now();
  }

  /** The message announced by {@link arrival} is stored (or failed). */
  stored(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    this.#lastArrival = performance.now();
  }

  /** Queues `id` for release. */
  add(id: string): void {
    if (this.#maxDelayMs === 0) {
      this.#release(id);
      return;
    }
    this.#waiting.push({ id, since: performance.now() });
    this.#arm();
  }

  /** Releases everything now (drain, tests). */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const w of this.#waiting.splice(0)) this.#release(w.id);
  }

  /** Forgets what waits (close: those messages are processed by the next start's recovery). */
  clear(): string[] {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    return this.#waiting.splice(0).map((w) => w.id);
  }

  get size(): number {
    return this.#waiting.length;
  }

  #arm(): void {
    if (this.#timer || this.#waiting.length === 0) return;
    this.#timer = setTimeout(() => this.#check(), this.#quietMs);
    this.#timer.unref?.();
  }

  #check(): void {
    this.#timer = null;
    const now = performance.now();
    if (this.#inFlight === 0 && now - this.#lastArrival >= this.#quietMs) {
      this.flush();
      return;
    }
    while (this.#waiting.length && now - this.#waiting[0]!.since >= this.#maxDelayMs) {
      this.#release(this.#waiting.shift()!.id);
    }
    this.#arm();
  }
}
