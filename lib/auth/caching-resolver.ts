import { type DnsAnswer, DnsError, type DnsErrorCode, type DnsResolver } from './dns-resolver.ts';
import { TtlCache } from './ttl-cache.ts';

/** Most answers one resolver keeps. */
export const DNS_CACHE_ENTRIES = 10_000;

/** Options of {@link cachingResolver}. */
export interface DnsCacheOptions {
  /** How long an answer is reused, in seconds (> 0); a record's own shorter TTL is not read. */
  seconds: number;
  /** @default DNS_CACHE_ENTRIES */
  maxEntries?: number;
  /** The clock, in milliseconds (tests inject one). @default Date.now */
  now?: () => number;
}

/** What is kept: records, or "nothing published" (NXDOMAIN, no records of the type). */
type Kept = { answer: DnsAnswer } | { error: Extract<DnsErrorCode, 'ENOTFOUND' | 'ENODATA'> };

/**
 * `ask`, its answers kept for `seconds` per name and type (bounded, the oldest dropped first):
 * records, and the answers that nothing is published (`ENOTFOUND`, `ENODATA`). Temporary trouble
 * (`ETIMEOUT`, `ESERVFAIL`, `EREFUSED`, anything else) is never kept. Every caller gets its own copy.
 */
export function cachingResolver(ask: DnsResolver, options: DnsCacheOptions): DnsResolver {
  const cache = new TtlCache<Kept>({
    ttlMs: options.seconds * 1000,
    maxEntries: options.maxEntries ?? DNS_CACHE_ENTRIES,
    ...(options.now ? { now: options.now } : {}),
  });
  return async (name, rrtype) => {
    const type = rrtype.toUpperCase();
    const key = `${type} ${name.toLowerCase()}`;
    const kept = cache.get(key);
    if (kept) {
      if ('error' in kept) throw new DnsError(kept.error, name, type);
      return copyOf(kept.answer);
    }
    try {
      const answer = await ask(name, rrtype);
      cache.set(key, { answer: copyOf(answer) });
      return answer;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA') cache.set(key, { error: code });
      throw err;
    }
  };
}

/** A copy of an answer (arrays of strings, of string arrays, or of MX records). */
function copyOf(answer: DnsAnswer): DnsAnswer {
  return answer.map((item: string | string[] | { exchange: string; priority: number }) =>
    typeof item === 'string' ? item : Array.isArray(item) ? [...item] : { ...item },
  ) as DnsAnswer;
}
