import { Resolver } from 'node:dns/promises';
import { cachingResolver } from './caching-resolver.ts';
import { type DnsAnswer, DnsError, type DnsErrorCode, type DnsResolver } from './dns-resolver.ts';
import { withRecipe } from './resolver-recipe.ts';
import type { SystemResolverOptions } from './system-resolver-options.ts';

export type { SystemResolverOptions } from './system-resolver-options.ts';

const PASSED_THROUGH = new Set<string>(['ENOTFOUND', 'ENODATA', 'ETIMEOUT', 'ESERVFAIL', 'EREFUSED']);
const TYPES = new Set(['TXT', 'MX', 'A', 'AAAA', 'PTR', 'CNAME', 'NS']);

/**
 * The production {@link DnsResolver}: `node:dns/promises` (c-ares, not the blocking `getaddrinfo`), every
 * question bounded by `timeoutMs`. Errors are {@link DnsError}s with the codes mailauth reads; a name that
 * cannot exist (`EBADNAME`) is `ENOTFOUND`, any other failure `ESERVFAIL`. With `cacheSeconds`, answers are
 * kept (see {@link cachingResolver}).
 */
export function createSystemResolver(options: SystemResolverOptions = {}): DnsResolver {
  const timeoutMs = options.timeoutMs ?? 5000;
  const tries = options.tries ?? 2;
  const resolver = new Resolver({ timeout: Math.max(1, Math.floor(timeoutMs / (tries + 1))), tries });
  if (options.servers) resolver.setServers(options.servers);
  // The authentication workers make their own, asking the same servers (see ResolverRecipe).
  const cacheSeconds = options.cacheSeconds ?? 0;
  const recipe = {
    timeoutMs,
    tries,
    servers: resolver.getServers(),
    ...(cacheSeconds ? { cacheSeconds } : {}),
  };

  const ask = async (name: string, rrtype: string): Promise<DnsAnswer> => {
    const type = rrtype.toUpperCase();
    if (!TYPES.has(type)) throw new DnsError('ENODATA', name, type);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DnsError('ETIMEOUT', name, type)), timeoutMs);
      timer.unref();
    });
    try {
      return (await Promise.race([resolver.resolve(name, type), deadline])) as DnsAnswer;
    } catch (err) {
      if (err instanceof DnsError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const mapped: DnsErrorCode = PASSED_THROUGH.has(code)
        ? (code as DnsErrorCode)
        : code === 'EBADNAME'
          ? 'ENOTFOUND'
          : 'ESERVFAIL';
      throw new DnsError(mapped, name, type, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  };
  const answer = cacheSeconds > 0 ? cachingResolver(ask, { seconds: cacheSeconds }) : ask;
  return withRecipe(answer, { kind: 'system', options: recipe });
}
