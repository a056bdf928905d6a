/** Options of a {@link TtlCache}. */
export interface TtlCacheOptions {
  /** How long an entry is served after it was stored, in milliseconds. */
  ttlMs: number;
  /** Most entries kept; storing one more drops the oldest. */
  maxEntries: number;
  /**
   * The clock, in milliseconds (tests inject one).
   * @default Date.now
   */
  now?: () => number;
}

interface Entry<V> {
  value: V;
  expires: number;
}

/**
 * A bounded map whose entries expire: at most `maxEntries` (the oldest dropped first, so a flood of unique
 * keys cannot grow memory), each served for `ttlMs` after it was stored. Entries are in the order they were
 * stored, which is also the order they expire in; an expired one is dropped when it is next asked for, or
 * pushed out by newer ones. (Oldest-first rather than least-recently-used: a hit changes nothing, and a
 * popular entry is stored again anyway once it expires.)
 */
export class TtlCache<V> {
  readonly #entries = new Map<string, Entry<V>>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: TtlCacheOptions) {
    this.#ttlMs = options.ttlMs;
    this.#maxEntries = Math.max(1, Math.floor(options.maxEntries));
    this.#now = options.now ?? Date.now;
  }

  /** The value stored under `key`, unless there is none or it has expired. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expires > this.#now()) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expires: this.#now() + this.#ttlMs });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  /** Entries held (expired ones not yet dropped included). */
  get size(): number {
    return this.#entries.size;
  }
}
