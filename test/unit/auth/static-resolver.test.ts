import { describe, expect, it } from 'vitest';
import { createStaticResolver, DnsError } from '../../../lib/auth/index.ts';

const resolver = createStaticResolver({
  'Example.COM.': {
    TXT: ['v=spf1 -all', ['v=DKIM1; p=', 'ABC']],
    MX: [{ exchange: 'mx.example.com', priority: 10 }],
    A: ['192.0.2.1'],
  },
  'alias.example.com': { CNAME: 'example.com.' },
  'loop1.example.com': { CNAME: 'loop2.example.com' },
  'loop2.example.com': { CNAME: 'loop1.example.com' },
  'slow.example.com': { A: ['192.0.2.2'], error: 'ETIMEOUT' },
});

async function code(name: string, type: string): Promise<string | undefined> {
  try {
    await resolver(name, type);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(DnsError);
    expect((err as DnsError).name).toBe('DnsError');
    return (err as DnsError).code;
  }
}

describe('createStaticResolver', () => {
  it('answers in node:dns shapes, case-insensitively, with or without the trailing dot', async () => {
    expect(await resolver('example.com', 'TXT')).toEqual([['v=spf1 -all'], ['v=DKIM1; p=', 'ABC']]);
    expect(await resolver('EXAMPLE.com.', 'mx')).toEqual([{ exchange: 'mx.example.com', priority: 10 }]);
    expect(await resolver('example.com', 'A')).toEqual(['192.0.2.1']);
  });

  it('fails the way mailauth reads: ENOTFOUND for an unknown name, ENODATA for a missing type', async () => {
    expect(await code('nowhere.example.com', 'TXT')).toBe('ENOTFOUND');
    expect(await code('example.com', 'AAAA')).toBe('ENODATA');
    expect(await code('example.com', 'PTR')).toBe('ENODATA');
    expect(await code('slow.example.com', 'TXT')).toBe('ETIMEOUT');
    expect(await resolver('slow.example.com', 'A')).toEqual(['192.0.2.2']);
  });

  it('follows CNAMEs and fails on loops', async () => {
    expect(await resolver('alias.example.com', 'TXT')).toHaveLength(2);
    expect(await resolver('alias.example.com', 'CNAME')).toEqual(['example.com.']);
    expect(await code('loop1.example.com', 'A')).toBe('ESERVFAIL');
  });

  it('hands out copies', async () => {
    const first = (await resolver('example.com', 'TXT')) as string[][];
    first[0]!.push('changed');
    expect(await resolver('example.com', 'TXT')).toEqual([['v=spf1 -all'], ['v=DKIM1; p=', 'ABC']]);
  });
});
