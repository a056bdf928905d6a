import { TtlCache } from './ttl-cache.ts';
import type { AuthResult, DmarcVerdict, SpfVerdict } from './verdicts.ts';

/** Most verdicts one cache keeps (a few MiB at most). */
export const VERDICT_CACHE_ENTRIES = 10_000;

/** Options of a {@link VerdictCache}. */
export interface VerdictCacheOptions {
  /** How long a verdict is reused, in seconds (> 0). */
  seconds: number;
  /** @default VERDICT_CACHE_ENTRIES */
  maxEntries?: number;
  /** The clock, in milliseconds (tests inject one). @default Date.now */
  now?: () => number;
}

/** Outcomes that are answers: the same question and DNS give them again. `temperror` is not one. */
const ANSWERS = new Set<AuthResult>(['pass', 'fail', 'softfail', 'neutral', 'none', 'permerror']);

/**
 * Verdicts of one method by their exact question (a string naming everything the verdict depends on
 * besides DNS), reused for `seconds`. Only answers are kept, never `temperror`; what it gives back is a
 * copy (`copy`), equal to the verdict stored.
 */
export class VerdictCache<V extends { result: AuthResult }> {
  readonly #verdicts: TtlCache<V>;
  readonly #copy: (verdict: V) => V;

  constructor(options: VerdictCacheOptions, copy: (verdict: V) => V) {
    this.#copy = copy;
    this.#verdicts = new TtlCache({
      ttlMs: options.seconds * 1000,
      maxEntries: options.maxEntries ?? VERDICT_CACHE_ENTRIES,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  get(question: string): V | undefined {
    const verdict = this.#verdicts.get(question);
    return verdict ? this.#copy(verdict) : undefined;
  }

  set(question: string, verdict: V): void {
    if (ANSWERS.has(verdict.result)) this.#verdicts.set(question, this.#copy(verdict));
  }

  /** Verdicts held. */
  get size(): number {
    return this.#verdicts.size;
  }
}

/**
 * The verdicts of one resolver's DNS truth that repeat senders ask for again: SPF by (client IP, HELO,
 * MAIL FROM, authserv-id), DMARC by the From: domain and the aligned-candidate domains (see
 * `authenticateMessage`).
 */
export interface AuthCaches {
  readonly seconds: number;
  readonly spf: VerdictCache<SpfVerdict>;
  readonly dmarc: VerdictCache<DmarcVerdict>;
}

/** New, empty {@link AuthCaches}. */
export function createAuthCaches(options: VerdictCacheOptions): AuthCaches {
  return {
    seconds: options.seconds,
    spf: new VerdictCache<SpfVerdict>(options, (v) => ({ ...v })),
    dmarc: new VerdictCache<DmarcVerdict>(options, (v) => ({ ...v, alignment: { ...v.alignment } })),
  };
}

const caches = new WeakMap<object, AuthCaches>();

/**
 * The caches kept for `resolver` (any object standing for one DNS truth), made on first use; none when
 * `seconds` is 0. Different resolvers never share verdicts, and the caches go with their resolver.
 */
export function authCachesFor(resolver: object, seconds: number): AuthCaches | undefined {
  if (!(seconds > 0)) return undefined;
  let kept = caches.get(resolver);
  if (!kept || kept.seconds !== seconds) {
    kept = createAuthCaches({ seconds });
    caches.set(resolver, kept);
  }
  return kept;
}
