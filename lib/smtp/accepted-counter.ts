import type { Logger } from '../kernel/index.ts';

/** How often the count of accepted messages is logged (while mail arrives). */
const REPORT_INTERVAL_MS = 60_000;

/**
 * Counts the messages the ingress accepted and logs the count at `info` once a minute while mail arrives
 * (`smtp messages accepted`, with the bytes and the seconds it covers), instead of a line per message on
 * the hot path; each message still gets its own `debug` line.
 */
export class AcceptedCounter {
  readonly #logger: Logger;
  readonly #intervalMs: number;
  #messages = 0;
  #bytes = 0;
  #since = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(logger: Logger, intervalMs = REPORT_INTERVAL_MS) {
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  /** One message accepted, of `bytes` bytes. */
  add(bytes: number): void {
    if (this.#messages === 0) this.#since = performance.now();
    this.#messages++;
    this.#bytes += bytes;
    if (!this.#timer) {
      this.#timer = setTimeout(() => this.#report(), this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** Logs what was counted since the last report (the ingress is closing). */
  close(): void {
    this.#report();
  }

  #report(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#messages === 0) return;
    const seconds = Math.round((performance.now() - this.#since) / 100) / 10;
    this.#logger.info('smtp messages accepted', { messages: this.#messages, bytes: this.#bytes, seconds });
    this.#messages = 0;
    this.#bytes = 0;
  }
}
