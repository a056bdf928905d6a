import { describe, expect, it } from 'vitest';
import {
  type AuthCaches,
  authCachesFor,
  authenticateMessage,
  createAuthCaches,
  createStaticResolver,
  type DnsResolver,
} from '../../../lib/auth/index.ts';

const AUTHSERV_ID = 'mx.mailroom.test';
const MESSAGE = Buffer.from(
  'From: Ada <ada@example.com>\r\nTo: support@mailroom.example\r\nSubject: hi\r\n' +
    'Date: Tue, 01 Jul 2025 10:00:00 +0000\r\nMessage-ID: <1@example.com>\r\n\r\nHello\r\n',
);
const ZONE = {
  'example.com': { TXT: ['v=spf1 ip4:192.0.2.0/24 ~all'] },
  '_dmarc.example.com': { TXT: ['v=DMARC1; p=reject'] },
};

/** `resolver`, counting the SPF (TXT example.com) and DMARC (TXT _dmarc.*) questions it is asked. */
function counting(resolver: DnsResolver) {
  let spf = 0;
  let dmarc = 0;
  const counted: DnsResolver = (name, rrtype) => {
    if (name === 'example.com' && rrtype === 'TXT') spf++;
    if (name.startsWith('_dmarc.')) dmarc++;
    return resolver(name, rrtype);
  };
  return { resolver: counted, spfQuestions: () => spf, dmarcQuestions: () => dmarc };
}

const run = (
  resolver: DnsResolver,
  cache?: AuthCaches,
  ip = '192.0.2.10',
  mailFrom = 'ada@example.com',
  message = MESSAGE,
) =>
  authenticateMessage(message, {
    ip,
    helo: 'mail.example.com',
    mailFrom,
    resolver,
    authservId: AUTHSERV_ID,
    ...(cache ? { cache } : {}),
  });

describe('authenticateMessage with AuthCaches: SPF', () => {
  it('reuses the verdict for the same sender: deep equal to a fresh one, no SPF question asked', async () => {
    const { resolver, spfQuestions } = counting(createStaticResolver(ZONE));
    const cache = createAuthCaches({ seconds: 60 });
    const fresh = await run(resolver);
    const first = await run(resolver, cache);
    const asked = spfQuestions();
    const second = await run(resolver, cache);
    expect(spfQuestions()).toBe(asked);
    expect(second.spf).toEqual(fresh.spf);
    expect(second).toEqual(first);
    expect(second.spf.result).toBe('pass');
    second.spf.comment = 'changed by a caller';
    expect((await run(resolver, cache)).spf).toEqual(fresh.spf);
  });

  it('another IP or MAIL FROM is another question', async () => {
    const { resolver, spfQuestions } = counting(createStaticResolver(ZONE));
    const cache = createAuthCaches({ seconds: 60 });
    await run(resolver, cache);
    const other = await run(resolver, cache, '203.0.113.9');
    expect(other.spf.result).toBe('softfail');
    expect((await run(resolver, cache, '192.0.2.10', 'bob@example.com')).spf.mailFrom).toBe(
      'bob@example.com',
    );
    expect(spfQuestions()).toBe(3);
    expect(cache.spf.size).toBe(3);
  });

  it('expires after `seconds` (injected clock)', async () => {
    let now = 0;
    const { resolver, spfQuestions } = counting(createStaticResolver(ZONE));
    const cache = createAuthCaches({ seconds: 60, now: () => now });
    await run(resolver, cache);
    now = 59_999;
    await run(resolver, cache);
    expect(spfQuestions()).toBe(1);
    now = 60_000;
    await run(resolver, cache);
    expect(spfQuestions()).toBe(2);
  });

  it('is bounded: a flood of unique senders keeps at most maxEntries', async () => {
    const cache = createAuthCaches({ seconds: 60, maxEntries: 5 });
    const resolver = createStaticResolver(ZONE);
    for (let i = 0; i < 20; i++) await run(resolver, cache, `192.0.2.${i + 1}`);
    expect(cache.spf.size).toBe(5);
  });

  it('never keeps temperror', async () => {
    let failing = true;
    const zone = createStaticResolver(ZONE);
    const resolver: DnsResolver = (name, rrtype) =>
      failing && name === 'example.com'
        ? Promise.reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' }))
        : zone(name, rrtype);
    const cache = createAuthCaches({ seconds: 60 });
    expect((await run(resolver, cache)).spf.result).toBe('temperror');
    expect(cache.spf.size).toBe(0);
    failing = false;
    expect((await run(resolver, cache)).spf.result).toBe('pass');
  });
});

describe('authenticateMessage with AuthCaches: DMARC', () => {
  const from = (address: string) => Buffer.from(MESSAGE.toString().replace('ada@example.com', address));

  it('reuses the verdict for the same From: domain and aligned domains: deep equal, no DMARC question', async () => {
    const { resolver, dmarcQuestions } = counting(createStaticResolver(ZONE));
    const cache = createAuthCaches({ seconds: 60 });
    const fresh = await run(resolver);
    const first = await run(resolver, cache);
    const asked = dmarcQuestions();
    // Another From: address of the same domain asks the same question.
    const second = await run(resolver, cache, '192.0.2.10', 'ada@example.com', from('bob@example.com'));
    expect(dmarcQuestions()).toBe(asked);
    expect(second.dmarc).toEqual(fresh.dmarc);
    expect(first.dmarc).toEqual(fresh.dmarc);
    expect(second.dmarc).toMatchObject({ result: 'pass', policy: 'reject', alignment: { spf: true } });
    second.dmarc.alignment.spf = false;
    expect((await run(resolver, cache)).dmarc).toEqual(fresh.dmarc);
  });

  it('an SPF result that no longer passes, or another From: domain, is another question', async () => {
    const { resolver, dmarcQuestions } = counting(createStaticResolver(ZONE));
    const cache = createAuthCaches({ seconds: 60 });
    await run(resolver, cache);
    const asked = dmarcQuestions();
    const failing = await run(resolver, cache, '203.0.113.9');
    expect(failing.dmarc).toMatchObject({ result: 'fail', alignment: { spf: false } });
    expect(dmarcQuestions()).toBeGreaterThan(asked);
    const other = await run(resolver, cache, '192.0.2.10', 'ada@example.com', from('eve@other.example'));
    expect(other.dmarc).toMatchObject({ result: 'none', domain: 'other.example' });
    expect(cache.dmarc.size).toBe(3);
  });

  it('never keeps temperror', async () => {
    let failing = true;
    const zone = createStaticResolver(ZONE);
    const resolver: DnsResolver = (name, rrtype) =>
      failing && name.startsWith('_dmarc.')
        ? Promise.reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' }))
        : zone(name, rrtype);
    const cache = createAuthCaches({ seconds: 60 });
    expect((await run(resolver, cache)).dmarc.result).toBe('temperror');
    expect(cache.dmarc.size).toBe(0);
    failing = false;
    expect((await run(resolver, cache)).dmarc.result).toBe('pass');
  });
});

describe('authCachesFor', () => {
  it('one cache per resolver, never shared; none for 0 seconds', async () => {
    const a = createStaticResolver(ZONE);
    const b = createStaticResolver({}); // other DNS truth: no SPF record
    expect(authCachesFor(a, 0)).toBeUndefined();
    expect(authCachesFor(a, 60)).toBe(authCachesFor(a, 60));
    expect(authCachesFor(b, 60)).not.toBe(authCachesFor(a, 60));
    expect((await run(a, authCachesFor(a, 60))).spf.result).toBe('pass');
    expect((await run(b, authCachesFor(b, 60))).spf.result).toBe('none');
  });

  it('a new lifetime makes a new cache', () => {
    const a = createStaticResolver(ZONE);
    const first = authCachesFor(a, 60);
    expect(authCachesFor(a, 30)).not.toBe(first);
    expect(authCachesFor(a, 30)?.seconds).toBe(30);
    expect(authCachesFor(a, 30)).toBe(authCachesFor(a, 30));
  });
});
