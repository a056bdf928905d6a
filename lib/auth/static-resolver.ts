import {
  type DnsAnswer,
  DnsError,
  type DnsErrorCode,
  type DnsResolver,
  type MxAnswer,
} from './dns-resolver.ts';

/** The records of one name in a {@link StaticZone}. */
export interface StaticRecords {
  /** A string is one record of one character-string; an array is one record split into character-strings. */
  TXT?: ReadonlyArray<string | readonly string[]>;
  MX?: readonly MxAnswer[];
  A?: readonly string[];
  AAAA?: readonly string[];
  PTR?: readonly string[];
  /** An alias: questions of every other type are answered for the target (chains followed, loops fail). */
  CNAME?: string;
  /**
   * The answer to a question of a type this name has no records for.
   * @default 'ENODATA' (the name exists, the type does not)
   */
  error?: DnsErrorCode;
}

/** A DNS zone in memory: names (case-insensitive, trailing dot optional) → their records. */
export type StaticZone = Readonly<Record<string, StaticRecords>>;

/** Longest CNAME chain followed. */
const MAX_CNAME_CHAIN = 8;

/**
 * A {@link DnsResolver} answering from a zone in memory, for tests and development. A name that is not in
 * the zone is NXDOMAIN (`ENOTFOUND`); a name without records of the type asked for is `ENODATA` (or its
 * `error`). Answers are fresh copies, so callers may mutate them.
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
  const names = new Map<string, StaticRecords>();
  for (const [name, records] of Object.entries(zone)) names.set(normalize(name), records);

  return async (name: string, rrtype: string): Promise<DnsAnswer> => {
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
