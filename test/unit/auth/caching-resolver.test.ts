import { describe, expect, it } from 'vitest';
import { cachingResolver } from '../../../lib/auth/caching-resolver.ts';
import { type DnsAnswer, DnsError, type DnsErrorCode, type DnsResolver } from '../../../lib/auth/index.ts';

/** A resolver answering from `answers` (an error code or records), counting questions by name. */
function upstream(answers: Record<string, DnsAnswer | DnsErrorCode>) {
  const asked: string[] = [];
  const resolver: DnsResolver = async (name, rrtype) => {
    asked.push(`${rrtype} ${name}`);
    const answer = answers[name];
    if (answer === undefined) throw new DnsError('ENOTFOUND', name, rrtype);
    if (typeof answer === 'string') throw new DnsError(answer, name, rrtype);
    return answer;
  };
  return { resolver, asked };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (err) {
    return (err as DnsError).code;
  }
}

describe('cachingResolver', () => {
  it('answers a repeated question from the cache, each caller with its own copy', async () => {
    const up = upstream({
      'a.test': [['v=spf1 ', '-all']],
      'mx.test': [{ exchange: 'mx.a.test', priority: 10 }],
    });
    const resolve = cachingResolver(up.resolver, { seconds: 60 });
    const first = (await resolve('a.test', 'TXT')) as string[][];
    first[0]!.push('changed');
    expect(await resolve('A.TEST', 'txt')).toEqual([['v=spf1 ', '-all']]);
    expect(await resolve('mx.test', 'MX')).toEqual([{ exchange: 'mx.a.test', priority: 10 }]);
    expect(await resolve('mx.test', 'MX')).toEqual([{ exchange: 'mx.a.test', priority: 10 }]);
    expect(await resolve('a.test', 'A')).toBeDefined();
    expect(up.asked).toEqual(['TXT a.test', 'MX mx.test', 'A a.test']);
  });

  it('keeps NXDOMAIN and no-records answers, as DnsErrors with the same code', async () => {
    const up = upstream({ 'empty.test': 'ENODATA' });
    const resolve = cachingResolver(up.resolver, { seconds: 60 });
    for (let i = 0; i < 2; i++) {
      expect(await codeOf(resolve('nowhere.test', 'TXT'))).toBe('ENOTFOUND');
      expect(await codeOf(resolve('empty.test', 'TXT'))).toBe('ENODATA');
    }
    await expect(resolve('nowhere.test', 'TXT')).rejects.toBeInstanceOf(DnsError);
    expect(up.asked).toEqual(['TXT nowhere.test', 'TXT empty.test']);
  });

  it('never keeps temporary trouble', async () => {
    const up = upstream({ 'slow.test': 'ETIMEOUT', 'broken.test': 'ESERVFAIL', 'refused.test': 'EREFUSED' });
    const resolve = cachingResolver(up.resolver, { seconds: 60 });
    for (let i = 0; i < 2; i++) {
      expect(await codeOf(resolve('slow.test', 'TXT'))).toBe('ETIMEOUT');
      expect(await codeOf(resolve('broken.test', 'TXT'))).toBe('ESERVFAIL');
      expect(await codeOf(resolve('refused.test', 'TXT'))).toBe('EREFUSED');
    }
    expect(up.asked).toHaveLength(6);
  });

  it('forgets answers after `seconds` (injected clock) and keeps at most maxEntries', async () => {
    let now = 0;
    const up = upstream({ 'a.test': [['x']] });
    const resolve = cachingResolver(up.resolver, { seconds: 10, maxEntries: 2, now: () => now });
    await resolve('a.test', 'TXT');
    now = 9_999;
    await resolve('a.test', 'TXT');
    expect(up.asked).toHaveLength(1);
    now = 10_000;
    await resolve('a.test', 'TXT');
    expect(up.asked).toHaveLength(2);
    await codeOf(resolve('b.test', 'TXT'));
    await codeOf(resolve('c.test', 'TXT')); // pushes a.test out
    await resolve('a.test', 'TXT');
    expect(up.asked).toHaveLength(5);
  });
});
