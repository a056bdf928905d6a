import { type DnsAnswer, DnsError, type DnsResolver } from './dns-resolver.ts';
import { withRecipe } from './resolver-recipe.ts';
import type { StaticRecords, StaticZone } from './static-zone.ts';

export type { StaticRecords, StaticZone } from './static-zone.ts';

/** Longest CNAME chain followed. */
const MAX_CNAME_CHAIN = 8;

/**
 * A {@link DnsResolver} answering from a zone in memory, for tests and development. A name that is not in
 * the zone is NXDOMAIN (`ENOTFOUND`); a name without records of the type asked for is `ENODATA` (or its
 * `error`). The zone is copied when the resolver is made (later changes to it are not seen); answers are fresh
 * copies, so callers may mutate them.
 *
 * ```ts
 * const resolver = createStaticResolver({
 *   'example.com': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'], MX: [{ exchange: 'mx.example.com', priority: 10 }] },
 *   '_dmarc.example.com': { TXT: ['v=DMARC1; p=reject'] },
 *   'broken.example': { error: 'ETIMEOUT' },
 * });
 * ```
 */
export function createStaticResolver(zone: StaticZone): DnsResolver {
  const copy = copyOf(zone);
  const names = new Map<string, StaticRecords>();
  for (const [name, records] of Object.entries(copy ?? zone)) names.set(normalize(name), records);

  const resolver = async (name: string, rrtype: string): Promise<DnsAnswer> => {
    const type = rrtype.toUpperCase();
    let key = normalize(name);
    for (let hops = 0; ; hops++) {
      const records = names.get(key);
      if (!records) throw new DnsError('ENOTFOUND', name, type);
      const answer = answerOf(records, type);
      if (answer) return answer;
      if (records.CNAME !== undefined && type !== 'CNAME') {
        if (hops >= MAX_CNAME_CHAIN) throw new DnsError('ESERVFAIL', name, type);
        key = normalize(records.CNAME);
        continue;
      }
      throw new DnsError(records.error ?? 'ENODATA', name, type);
    }
  };
  // The copy is plain data: the authentication workers answer from their own (see ResolverRecipe).
  return copy ? withRecipe(resolver, { kind: 'static', zone: copy }) : resolver;
}

/** A copy of the zone as plain data, or null when it holds something else (it is then read as it is). */
function copyOf(zone: StaticZone): StaticZone | null {
  try {
    return structuredClone(zone);
  } catch {
    return null;
  }
}

function answerOf(records: StaticRecords, type: string): DnsAnswer | null {
  switch (type) {
    case 'TXT':
      return records.TXT?.length ? records.TXT.map((r) => (typeof r === 'string' ? [r] : [...r])) : null;
    case 'MX':
      return records.MX?.length
        ? records.MX.map((mx) => ({ exchange: mx.exchange, priority: mx.priority }))
        : null;
    case 'A':
    case 'AAAA':
    case 'PTR': {
      const list = records[type];
      return list?.length ? [...list] : null;
    }
    case 'CNAME':
      return records.CNAME !== undefined ? [records.CNAME] : null;
    default:
      return null;
  }
}

function normalize(name: string): string {
  return name.trim().toLowerCase().replace(/\.$/, '');
}
