/**
 * Counts failed logins per client address in a sliding window; past the limit, that address is refused
 * until old failures age out. Memory is bounded: the oldest addresses are forgotten first.
 */
export class LoginLimiter {
  readonly #failures = new Map<string, number[]>();

  /**
   * @param maxFailures failures allowed per address in the window. @default 5
   * @param windowMs @default 300_000 (5 minutes)
   * @param maxAddresses addresses remembered at once. @default 10_000
   */
  constructor(
    readonly maxFailures = 5,
    readonly windowMs = 300_000,
    readonly maxAddresses = 10_000,
  ) {}

  /** Whether this address may try to log in now. */
  allowed(address: string, now = Date.now()): boolean {
    return this.#recent(address, now).length < this.maxFailures;
  }

  fail(address: string, now = Date.now()): void {
    const list = this.#recent(address, now);
    list.push(now);
    this.#failures.delete(address);
    this.#failures.set(address, list);
    if (this.#failures.size > this.maxAddresses) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
  }

  succeed(address: string): void {
    this.#failures.delete(address);
  }

  #recent(address: string, now: number): number[] {
    const list = (this.#failures.get(address) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length === 0) this.#failures.delete(address);
    else this.#failures.set(address, list);
    return list;
  }
}
