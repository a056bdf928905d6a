import { Resolver } from 'node:dns/promises';
import { type DnsAnswer, DnsError, type DnsErrorCode, type DnsResolver } from './dns-resolver.ts';

/** Options of {@link createSystemResolver}. */
export interface SystemResolverOptions {
  /**
   * Name servers (`'192.0.2.53'`, `'[2001:db8::53]:5353'`).
   * @default the system's (/etc/resolv.conf)
   */
  servers?: string[];
  /**
   * Longest wait for one question, retries included; past it the question fails with `ETIMEOUT`
   * (a `temperror` verdict, so the sender's mail is not judged on a slow DNS server).
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * Attempts per name server.
   * @default 2
   */
  tries?: number;
}

const PASSED_THROUGH = new Set<string>(['ENOTFOUND', 'ENODATA', 'ETIMEOUT', 'ESERVFAIL', 'EREFUSED']);
const TYPES = new Set(['TXT', 'MX', 'A', 'AAAA', 'PTR', 'CNAME', 'NS']);

/**
 * The production {@link DnsResolver}: `node:dns/promises` (c-ares, not the blocking `getaddrinfo`), every
 * question bounded by `timeoutMs`. Errors are {@link DnsError}s with the codes mailauth reads; a name that
 * cannot exist (`EBADNAME`) is `ENOTFOUND`, any other failure `ESERVFAIL`.
 */
export function createSystemResolver(options: SystemResolverOptions = {}): DnsResolver {
  const timeoutMs = options.timeoutMs ?? 5000;
  const tries = options.tries ?? 2;
  const resolver = new Resolver({ timeout: Math.max(1, Math.floor(timeoutMs / (tries + 1))), tries });
  if (options.servers) resolver.setServers(options.servers);

  return async (name: string, rrtype: string): Promise<DnsAnswer> => {
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
}
