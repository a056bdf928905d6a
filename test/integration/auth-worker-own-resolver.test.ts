import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthWorkerPool,
  createStaticResolver,
  createSystemResolver,
  type DataTimeRequest,
  type DnsResolver,
  RESOLVER_RECIPE,
  recipeOf,
} from '../../lib/auth/index.ts';
import { startTinyDns, type TinyDns } from '../support/tiny-dns.ts';

/**
 * A resolver with a recipe (static zone, system DNS) is made again inside the authentication worker: its
 * questions never reach the main thread, and the verdicts are those of the main thread's resolver.
 */
const SPF = 'v=spf1 ip4:192.0.2.0/24 -all';
const DMARC = 'v=DMARC1; p=reject';
const REQUEST: DataTimeRequest = {
  ip: '192.0.2.10',
  helo: 'mail.example.com',
  mailFrom: 'ada@example.com',
  authservId: 'mx.mailroom.test',
  dmarcReject: false,
};
const MESSAGE = Buffer.from(
  'From: Ada <ada@example.com>\r\nTo: support@mailroom.test\r\nSubject: hi\r\n' +
    'Date: Tue, 01 Jul 2025 10:00:00 +0000\r\n\r\nHello\r\n',
);
const REQUESTS = [
  REQUEST,
  { ...REQUEST, ip: '203.0.113.9' },
  { ...REQUEST, mailFrom: 'bob@nowhere.example' },
];

let dns: TinyDns;
const pools: AuthWorkerPool[] = [];
beforeAll(async () => {
  dns = await startTinyDns({
    'TXT example.com': { rcode: 0, txt: [SPF] },
    'TXT _dmarc.example.com': { rcode: 0, txt: [DMARC] },
    'TXT slow.example.com': 'silent',
  });
});
afterAll(() => dns.close());
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

const newPool = (options: ConstructorParameters<typeof AuthWorkerPool>[0]) => {
  const pool = new AuthWorkerPool(options);
  pools.push(pool);
  return pool;
};

/** `resolver` asked in this thread, counting its calls; with `portable`, it carries resolver's recipe. */
function counted(resolver: DnsResolver, portable: boolean): { resolver: DnsResolver; calls: () => number } {
  let calls = 0;
  const fn: DnsResolver = (name, rrtype) => {
    calls++;
    return resolver(name, rrtype);
  };
  const recipe = portable ? recipeOf(resolver) : undefined;
  if (portable) expect(recipe).toBeDefined();
  return { resolver: recipe ? Object.assign(fn, { [RESOLVER_RECIPE]: recipe }) : fn, calls: () => calls };
}

/** The outcomes of REQUESTS, one after another, on one pool. */
async function outcomes(resolver: DnsResolver): Promise<unknown[]> {
  const pool = newPool({ size: 1 });
  const out: unknown[] = [];
  for (const request of REQUESTS) out.push(await pool.inspect(MESSAGE, request, resolver));
  return out;
}

describe('AuthWorkerPool with a resolver that carries a recipe', () => {
  it('a static zone: the worker answers from its own copy; nothing asked here; same verdicts', async () => {
    const zone = createStaticResolver({
      'example.com': { TXT: [SPF] },
      '_dmarc.example.com': { TXT: [DMARC] },
    });
    const here = counted(zone, false);
    const own = counted(zone, true);
    const expected = await outcomes(here.resolver);
    expect(here.calls()).toBeGreaterThan(0);
    expect(expected).toMatchObject([
      { deferred: false, inspection: { auth: { spf: { result: 'pass' }, dmarc: { result: 'pass' } } } },
      { deferred: false, inspection: { auth: { spf: { result: 'fail' }, dmarc: { result: 'fail' } } } },
      { deferred: false, inspection: { auth: { spf: { result: 'none' } } } },
    ]);
    expect(await outcomes(own.resolver)).toEqual(expected);
    expect(own.calls()).toBe(0);
  });

  it('the system resolver: the worker asks the same servers itself; nothing asked here; same verdicts', async () => {
    const system = createSystemResolver({ servers: dns.servers, timeoutMs: 5000 });
    const here = counted(system, false);
    const own = counted(system, true);
    const expected = await outcomes(here.resolver);
    expect(here.calls()).toBeGreaterThan(0);
    dns.asked.length = 0;
    expect(await outcomes(own.resolver)).toEqual(expected);
    expect(own.calls()).toBe(0);
    expect(dns.asked).toEqual(expect.arrayContaining(['TXT example.com', 'TXT _dmarc.example.com']));
  });

  it('cuts a check whose DNS never answers at the deadline, and the worker goes on', async () => {
    const pool = newPool({ size: 1, deadlineMs: 1500 });
    await pool.warm();
    const silent = counted(createSystemResolver({ servers: dns.servers, timeoutMs: 60_000 }), true);
    expect(
      await pool.inspect(MESSAGE, { ...REQUEST, mailFrom: 'ada@slow.example.com' }, silent.resolver),
    ).toEqual({
      deferred: true,
      reason: 'authentication did not finish within 1500 ms',
    });
    expect(silent.calls()).toBe(0);
    const zone = createStaticResolver({
      'example.com': { TXT: [SPF] },
      '_dmarc.example.com': { TXT: [DMARC] },
    });
    expect(await pool.inspect(MESSAGE, REQUEST, zone)).toMatchObject({
      deferred: false,
      inspection: { auth: { spf: { result: 'pass' } } },
    });
    expect(pool.stats()).toEqual({ workers: 1, checks: 0 });
  });
});

describe('AuthWorkerPool: SPF verdicts cached in the worker (request.cacheSeconds)', () => {
  const spfAsked = () => dns.asked.filter((q) => q === 'TXT example.com').length;

  it('the worker reuses a sender verdict under its own resolver: the same outcome, SPF asked once', async () => {
    const pool = newPool({ size: 1 });
    const system = createSystemResolver({ servers: dns.servers, timeoutMs: 5000 });
    const cached = { ...REQUEST, cacheSeconds: 60 };
    dns.asked.length = 0;
    const first = await pool.inspect(MESSAGE, cached, system);
    const second = await pool.inspect(MESSAGE, cached, system);
    expect(second).toEqual(first);
    expect(first).toMatchObject({ deferred: false, inspection: { auth: { spf: { result: 'pass' } } } });
    expect(spfAsked()).toBe(1);
    // Without the option, every message is checked.
    await pool.inspect(MESSAGE, REQUEST, system);
    await pool.inspect(MESSAGE, REQUEST, system);
    expect(spfAsked()).toBe(3);
  });

  it('another resolver has its own cache; one asked in the main thread is not cached', async () => {
    const pool = newPool({ size: 1 });
    const cached = { ...REQUEST, cacheSeconds: 60 };
    const a = createSystemResolver({ servers: dns.servers, timeoutMs: 5000 });
    const b = createSystemResolver({ servers: dns.servers, timeoutMs: 5000 });
    dns.asked.length = 0;
    await pool.inspect(MESSAGE, cached, a);
    await pool.inspect(MESSAGE, cached, b);
    expect(spfAsked()).toBe(2);
    const here = counted(a, false);
    await pool.inspect(MESSAGE, cached, here.resolver);
    await pool.inspect(MESSAGE, cached, here.resolver);
    expect(here.calls()).toBeGreaterThan(0);
    expect(spfAsked()).toBe(4);
  });
});
