import { describe, expect, it } from 'vitest';
import {
  authenticateMessage,
  createStaticResolver,
  type DnsResolver,
  SpfCache,
  spfCacheFor,
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

/** `resolver`, counting the SPF questions (TXT example.com) it is asked. */
function counting(resolver: DnsResolver): { resolver: DnsResolver; spfQuestions: () => number } {
  let n = 0;
  return {
    resolver: (name, rrtype) => {
      if (name === 'example.com' && rrtype === 'TXT') n++;
      return resolver(name, rrtype);
    },
    spfQuestions: () => n,
  };
}

const run = (resolver: DnsResolver, spfCache?: SpfCache, ip = '192.0.2.10', mailFrom = 'ada@example.com') =>
  authenticateMessage(MESSAGE, {
    ip,
    helo: 'mail.example.com',
    mailFrom,
    resolver,
    authservId: AUTHSERV_ID,
    ...(spfCache ? { spfCache } : {}),
  });

describe('authenticateMessage with an SpfCache', () => {
  it('reuses the verdict for the same sender: deep equal to a fresh one, no SPF question asked', async () => {
    const { resolver, spfQuestions } = counting(createStaticResolver(ZONE));
    const cache = new SpfCache({ seconds: 60 });
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
    const cache = new SpfCache({ seconds: 60 });
    await run(resolver, cache);
    const other = await run(resolver, cache, '203.0.113.9');
    expect(other.spf.result).toBe('softfail');
    expect((await run(resolver, cache, '192.0.2.10', 'bob@example.com')).spf.mailFrom).toBe(
      'bob@example.com',
    );
    expect(spfQuestions()).toBe(3);
    expect(cache.size).toBe(3);
  });

  it('expires after `seconds` (injected clock)', async () => {
    let now = 0;
    const { resolver, spfQuestions } = counting(createStaticResolver(ZONE));
    const cache = new SpfCache({ seconds: 60, now: () => now });
    await run(resolver, cache);
    now = 59_999;
    await run(resolver, cache);
    expect(spfQuestions()).toBe(1);
    now = 60_000;
    await run(resolver, cache);
    expect(spfQuestions()).toBe(2);
  });

  it('is bounded: a flood of unique senders keeps at most maxEntries', async () => {
    const cache = new SpfCache({ seconds: 60, maxEntries: 5 });
    const resolver = createStaticResolver(ZONE);
    for (let i = 0; i < 20; i++) await run(resolver, cache, `192.0.2.${i + 1}`);
    expect(cache.size).toBe(5);
  });

  it('never keeps temperror', async () => {
    let failing = true;
    const zone = createStaticResolver(ZONE);
    const resolver: DnsResolver = (name, rrtype) =>
      failing && name === 'example.com'
        ? Promise.reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' }))
        : zone(name, rrtype);
    const cache = new SpfCache({ seconds: 60 });
    expect((await run(resolver, cache)).spf.result).toBe('temperror');
    expect(cache.size).toBe(0);
    failing = false;
    expect((await run(resolver, cache)).spf.result).toBe('pass');
  });
});

describe('spfCacheFor', () => {
  it('one cache per resolver, never shared; none for 0 seconds', async () => {
    const a = createStaticResolver(ZONE);
    const b = createStaticResolver({}); // other DNS truth: no SPF record
    expect(spfCacheFor(a, 0)).toBeUndefined();
    expect(spfCacheFor(a, 60)).toBe(spfCacheFor(a, 60));
    expect(spfCacheFor(b, 60)).not.toBe(spfCacheFor(a, 60));
    expect((await run(a, spfCacheFor(a, 60))).spf.result).toBe('pass');
    expect((await run(b, spfCacheFor(b, 60))).spf.result).toBe('none');
  });

  it('a new lifetime makes a new cache', () => {
    const a = createStaticResolver(ZONE);
    const first = spfCacheFor(a, 60);
    expect(spfCacheFor(a, 30)).not.toBe(first);
    expect(spfCacheFor(a, 30)?.seconds).toBe(30);
  });
});
