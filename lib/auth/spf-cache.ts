import { TtlCache } from './ttl-cache.ts';
import type { SpfVerdict } from './verdicts.ts';

/** Most SPF verdicts one cache keeps (a few MiB at most). */
export const SPF_CACHE_ENTRIES = 10_000;

/** Options of an {@link SpfCache}. */
export interface SpfCacheOptions {
  /** How long a verdict is reused, in seconds (> 0). */
  seconds: number;
  /** @default SPF_CACHE_ENTRIES */
  maxEntries?: number;
  /** The clock, in milliseconds (tests inject one). @default Date.now */
  now?: () => number;
}

/** The SMTP transaction's part that, with DNS, decides SPF. */
export interface SpfQuestion {
  ip: string;
  helo: string;
  mailFrom: string;
  /** Written into the verdict's comment by mailauth. */
  authservId: string;
}

/** Outcomes that are answers: the same question and DNS give them again. `temperror` is not one. */
const ANSWERS = new Set(['pass', 'fail', 'softfail', 'neutral', 'none', 'permerror']);

/**
 * SPF verdicts by their exact question (client IP, HELO, MAIL FROM, authserv-id), for `seconds`: mail from
 * the same sender to the same MX repeats the question, and SPF's answer depends only on it and DNS. One
 * cache belongs to one resolver (its DNS truth, see {@link spfCacheFor}). Only answers are kept, never
 * `temperror`; what it gives back is a copy, equal to the verdict stored.
 */
export class SpfCache {
  readonly #verdicts: TtlCache<SpfVerdict>;
  readonly seconds: number;

  constructor(options: SpfCacheOptions) {
    this.seconds = options.seconds;
    this.#verdicts = new TtlCache({
      ttlMs: options.seconds * 1000,
      maxEntries: options.maxEntries ?? SPF_CACHE_ENTRIES,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  get(question: SpfQuestion): SpfVerdict | undefined {
    const verdict = this.#verdicts.get(keyOf(question));
    return verdict ? { ...verdict } : undefined;
  }

  set(question: SpfQuestion, verdict: SpfVerdict): void {
    if (ANSWERS.has(verdict.result)) this.#verdicts.set(keyOf(question), { ...verdict });
  }

  /** Verdicts held. */
  get size(): number {
    return this.#verdicts.size;
  }
}

function keyOf(q: SpfQuestion): string {
  return `${q.ip}\n${q.helo}\n${q.mailFrom}\n${q.authservId}`;
}

const caches = new WeakMap<object, SpfCache>();

/**
 * The SPF cache kept for `resolver` (any object standing for one DNS truth), made on first use; none when
 * `seconds` is 0. Different resolvers never share verdicts, and a cache goes with its resolver.
 */
export function spfCacheFor(resolver: object, seconds: number): SpfCache | undefined {
  if (!(seconds > 0)) return undefined;
  let cache = caches.get(resolver);
  if (!cache || cache.seconds !== seconds) {
    cache = new SpfCache({ seconds });
    caches.set(resolver, cache);
  }
  return cache;
}
