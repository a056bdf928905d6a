/**
 * Counts failed logins per client address in a sliding window; past the limit, that address is refused
 * until old failures age out. Memory is bounded: the oldest addresses are forgotten first.
 */
export class LoginLimiter {
  readonly #failures = new Map<string, number[]>();
  /** Password checks under way, per address: each counts as a failure until it is known not to be one. */
  readonly #pending = new Map<string, number>();
  #pendingTotal = 0;

  /**
   * @param maxFailures failures allowed per address in the window. @default 5
   * @param windowMs @default 300_000 (5 minutes)
   * @param maxAddresses addresses remembered at once. @default 10_000
   * @param maxConcurrentChecks password checks (scrypt, 32 MiB each) running at once, from everyone.
   *   @default 4
   */
  constructor(
    readonly maxFailures = 5,
    readonly windowMs = 300_000,
    readonly maxAddresses = 10_000,
    readonly maxConcurrentChecks = 4,
  ) {}

  /** Whether this address may try to log in now (checks under way count as failures). */
  allowed(address: string, now = Date.now()): boolean {
    return this.#recent(address, now).length + (this.#pending.get(address) ?? 0) < this.maxFailures;
  }

  /**
   * Reserves a password check for this address, before it runs: refused (`'address'`) when its failures
   * plus the checks it already has under way reach the limit — so parallel attempts cannot all get a
   * check — or (`'busy'`) when `maxConcurrentChecks` are running. Each `null` must be followed by
   * exactly one {@link succeed} or {@link fail}.
   */
  begin(address: string, now = Date.now()): 'address' | 'busy' | null {
    if (!this.allowed(address, now)) return 'address';
    if (this.#pendingTotal >= this.maxConcurrentChecks) return 'busy';
    this.#pending.set(address, (this.#pending.get(address) ?? 0) + 1);
    this.#pendingTotal++;
    return null;
  }

  fail(address: string, now = Date.now()): void {
    this.#end(address);
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
    this.#end(address);
    this.#failures.delete(address);
  }

  /** A check begun with {@link begin} is over (no-op for checks that were not). */
  #end(address: string): void {
    const pending = this.#pending.get(address);
    if (!pending) return;
    this.#pendingTotal--;
    if (pending === 1) this.#pending.delete(address);
    else this.#pending.set(address, pending - 1);
  }

  #recent(address: string, now: number): number[] {
    const list = (this.#failures.get(address) ?? []).filter((t) => now - t < this.windowMs);
    if (list.length === 0) this.#failures.delete(address);
    else this.#failures.set(address, list);
    return list;
  }
}
