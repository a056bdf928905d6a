import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateMessage, createSystemResolver, DnsError, recipeOf } from '../../../lib/auth/index.ts';
import { startTinyDns, type TinyDns } from '../../support/tiny-dns.ts';

let dns: TinyDns;
let servers: string[];

beforeAll(async () => {
  dns = await startTinyDns({
    'TXT example.com': { rcode: 0, txt: ['v=spf1 ip4:192.0.2.0/24 -all'] },
    'TXT _dmarc.example.com': { rcode: 0, txt: ['v=DMARC1; p=reject'] },
    'A example.com': { rcode: 0, a: ['192.0.2.1'] },
    'TXT empty.example.com': { rcode: 0 },
    'TXT broken.example.com': { rcode: 2 },
    'TXT refused.example.com': { rcode: 5 },
    'TXT slow.example.com': 'silent',
  });
  servers = dns.servers;
});

afterAll(() => dns.close());

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (err) {
    expect(err).toBeInstanceOf(DnsError);
    return (err as DnsError).code;
  }
}

describe('createSystemResolver', () => {
  it('answers TXT and A in node:dns shapes', async () => {
    const resolve = createSystemResolver({ servers, timeoutMs: 2000 });
    expect(await resolve('example.com', 'TXT')).toEqual([['v=spf1 ip4:192.0.2.0/24 -all']]);
    expect(await resolve('example.com', 'A')).toEqual(['192.0.2.1']);
  });

  it('gives the error codes mailauth reads', async () => {
    const resolve = createSystemResolver({ servers, timeoutMs: 2000, tries: 1 });
    expect(await code(resolve('nowhere.example.com', 'TXT'))).toBe('ENOTFOUND');
    expect(await code(resolve('empty.example.com', 'TXT'))).toBe('ENODATA');
    expect(await code(resolve('broken.example.com', 'TXT'))).toBe('ESERVFAIL');
    expect(await code(resolve('refused.example.com', 'TXT'))).toBe('EREFUSED');
    expect(await code(resolve('example.com', 'SRVX'))).toBe('ENODATA');
  });

  it('bounds every question by timeoutMs', async () => {
    const resolve = createSystemResolver({ servers, timeoutMs: 300, tries: 1 });
    const started = Date.now();
    expect(await code(resolve('slow.example.com', 'TXT'))).toBe('ETIMEOUT');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('drives authenticateMessage', async () => {
    const v = await authenticateMessage(Buffer.from('From: a@example.com\r\n\r\nhi\r\n'), {
      ip: '192.0.2.7',
      helo: 'mail.example.com',
      mailFrom: 'a@example.com',
      resolver: createSystemResolver({ servers, timeoutMs: 2000 }),
      authservId: 'mx.mailroom.test',
    });
    expect(v.spf.result).toBe('pass');
    expect(v.dmarc).toMatchObject({ result: 'pass', policy: 'reject' });
  });
});

describe('createSystemResolver with cacheSeconds', () => {
  it('asks the server once per name and type: records and NXDOMAIN kept, timeouts and SERVFAIL not', async () => {
    const resolve = createSystemResolver({ servers, timeoutMs: 300, tries: 1, cacheSeconds: 60 });
    dns.asked.length = 0;
    for (let i = 0; i < 2; i++) {
      expect(await resolve('example.com', 'TXT')).toEqual([['v=spf1 ip4:192.0.2.0/24 -all']]);
      expect(await code(resolve('nowhere.example.com', 'TXT'))).toBe('ENOTFOUND');
      expect(await code(resolve('broken.example.com', 'TXT'))).toBe('ESERVFAIL');
      expect(await code(resolve('slow.example.com', 'TXT'))).toBe('ETIMEOUT');
    }
    const count = (q: string) => dns.asked.filter((a) => a === q).length;
    expect(count('TXT example.com')).toBe(1);
    expect(count('TXT nowhere.example.com')).toBe(1);
    expect(count('TXT broken.example.com')).toBe(2);
    expect(count('TXT slow.example.com')).toBeGreaterThanOrEqual(2);
  });

  it('carries the option in its recipe (the auth workers cache too); without it, nothing is kept', async () => {
    expect(recipeOf(createSystemResolver({ servers, cacheSeconds: 30 }))).toMatchObject({
      kind: 'system',
      options: { cacheSeconds: 30 },
    });
    const resolve = createSystemResolver({ servers, timeoutMs: 2000 });
    dns.asked.length = 0;
    await resolve('example.com', 'TXT');
    await resolve('example.com', 'TXT');
    expect(dns.asked).toEqual(['TXT example.com', 'TXT example.com']);
  });
});
