import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { dkimSign } from 'mailauth';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthVerdicts,
  AuthWorkerPool,
  createDataTimeCheck,
  createStaticResolver,
  type DataTimeRequest,
  type DnsResolver,
  type PoolOutcome,
} from '../../lib/auth/index.ts';

/**
 * The end-of-DATA check in worker threads (real ones): DNS answered by the main thread's resolver,
 * deadlines, crashes, close(), and a main event loop that keeps running while a worker works.
 */
const AUTHSERV_ID = 'mx.mailroom.test';
let privateKey: string;
let publicKeyTxt: string[];
const pools: AuthWorkerPool[] = [];

beforeAll(() => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const p = pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  publicKeyTxt = `v=DKIM1; k=rsa; p=${p}`.match(/.{1,255}/g)!;
});
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

const newPool = (options: ConstructorParameters<typeof AuthWorkerPool>[0]) => {
  const pool = new AuthWorkerPool(options);
  pools.push(pool);
  return pool;
};

/** The zone, answering from this thread; `asked` records every question. */
function zoneResolver(asked: string[] = []): DnsResolver {
  const zone = createStaticResolver({
    'example.com': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
    '_dmarc.example.com': { TXT: ['v=DMARC1; p=reject'] },
    'sel1._domainkey.example.com': { TXT: [publicKeyTxt] },
  });
  return (name, rrtype) => {
    asked.push(`${rrtype} ${name}`);
    return zone(name, rrtype);
  };
}

const REQUEST: DataTimeRequest = {
  ip: '192.0.2.10',
  helo: 'mail.example.com',
  mailFrom: 'ada@example.com',
  authservId: AUTHSERV_ID,
  dmarcReject: true,
};
const ENVELOPE = {
  mailFrom: 'ada@example.com',
  rcptTo: ['support@mailroom.test'],
  remoteAddress: '192.0.2.10',
};
const MESSAGE =
  'From: Ada <ada@example.com>\r\nTo: support@mailroom.test\r\nSubject: hi\r\n' +
  'Date: Tue, 01 Jul 2025 10:00:00 +0000\r\n\r\nHello\r\n';

/** The verdicts of a finished check that did not refuse the message; throws otherwise. */
function verdictsOf(outcome: PoolOutcome): AuthVerdicts {
  if (outcome.deferred || outcome.inspection.reject) throw new Error(`unexpected ${JSON.stringify(outcome)}`);
  return outcome.inspection.auth;
}

async function signed(message: string, signatures = [{}]): Promise<Buffer> {
  const { signatures: headers, errors } = await dkimSign(message, {
    signatureData: signatures.map((s) => ({
      signingDomain: 'example.com',
      selector: 'sel1',
      privateKey,
      ...s,
    })),
  } as Parameters<typeof dkimSign>[1]);
  expect(errors).toEqual([]);
  return Buffer.from(headers + message);
}

describe('createDataTimeCheck in worker threads', () => {
  it('verifies in a worker, asking this thread every DNS question; forged results are cut from the body', async () => {
    const asked: string[] = [];
    const check = createDataTimeCheck({ resolver: zoneResolver(asked), authservId: AUTHSERV_ID });
    try {
      const forged = `Authentication-Results: ${AUTHSERV_ID}; dkim=pass\r\n`;
      const raw = Buffer.concat([Buffer.from(forged), await signed(MESSAGE)]);
      const decision = await check({ envelope: ENVELOPE, raw });
      if (decision.reject || decision.deferred) throw new Error(`unexpected ${JSON.stringify(decision)}`);
      expect(decision.auth.spf.result).toBe('pass');
      expect(decision.auth.dkim).toMatchObject([{ result: 'pass', domain: 'example.com' }]);
      expect(decision.auth.dmarc.result).toBe('pass');
      expect(decision.prefix).toMatch(/^Authentication-Results: mx\.mailroom\.test;\r\n spf=pass/);
      expect(decision.body.toString()).toBe(raw.subarray(forged.length).toString());
      expect(asked).toEqual(
        expect.arrayContaining([
          'TXT example.com',
          'TXT sel1._domainkey.example.com',
          'TXT _dmarc.example.com',
        ]),
      );
      expect(raw.toString().startsWith(forged)).toBe(true); // the caller's buffer is left as it was
    } finally {
      await check.close();
    }
  });

  it('refuses a DMARC p=reject failure', async () => {
    const check = createDataTimeCheck({
      resolver: zoneResolver(),
      authservId: AUTHSERV_ID,
      dmarcReject: true,
    });
    try {
      const decision = await check({
        envelope: { ...ENVELOPE, remoteAddress: '203.0.113.9' },
        raw: Buffer.from(MESSAGE),
      });
      expect(decision.reject).toMatchObject({ code: 550 });
    } finally {
      await check.close();
    }
  });

  it('after close(), checks report deferred', async () => {
    const check = createDataTimeCheck({ resolver: zoneResolver(), authservId: AUTHSERV_ID });
    await check.close();
    expect(await check({ envelope: ENVELOPE, raw: Buffer.from(MESSAGE) })).toEqual({
      deferred: true,
      reason: 'the authentication pool is closed',
    });
  });
});

describe('AuthWorkerPool', () => {
  it('cuts a check whose DNS never answers at the deadline; the pool goes on', async () => {
    // The deadline also bounds the check that follows, so it leaves room for a loaded machine.
    const pool = newPool({ size: 1, deadlineMs: 2000 });
    await pool.warm(); // loading the worker counts against a check's deadline
    const silent: DnsResolver = () => new Promise(() => {});
    expect(await pool.inspect(Buffer.from(MESSAGE), REQUEST, silent)).toEqual({
      deferred: true,
      reason: 'authentication did not finish within 2000 ms',
    });
    const next = await pool.inspect(Buffer.from(MESSAGE), REQUEST, zoneResolver());
    expect(verdictsOf(next).dmarc.result).toBe('pass');
    expect(pool.stats()).toEqual({ workers: 1, checks: 0 }); // waiting on DNS is no reason to replace it
  });

  it('a DNS answer that cannot cross to the worker reaches it as a server failure; the check finishes', async () => {
    const pool = newPool({ size: 1, deadlineMs: 10_000 });
    const zone = zoneResolver();
    // An SPF answer carrying a function cannot be cloned: that question fails, the others are answered.
    const odd: DnsResolver = (name, rrtype) =>
      name === 'example.com' && rrtype === 'TXT'
        ? Promise.resolve([['v=spf1 -all', () => {}]] as unknown as string[][])
        : zone(name, rrtype);
    const outcome = await pool.inspect(Buffer.from(MESSAGE), { ...REQUEST, dmarcReject: false }, odd);
    expect(verdictsOf(outcome).spf.result).toBe('temperror');
    const next = await pool.inspect(Buffer.from(MESSAGE), REQUEST, zoneResolver());
    expect(verdictsOf(next).spf.result).toBe('pass');
  });

  it('a worker that runs out of memory ends only its checks: deferred, and the next check works', async () => {
    const pool = newPool({ size: 1, heapMb: 64 });
    // An absurd resolver answer (300 MiB of TXT) is more than the worker's heap can take.
    const huge = Array.from({ length: 300 }, (_, i) => [String(i).padEnd(1 << 20, 'x')]);
    const crashed = await pool.inspect(Buffer.from(MESSAGE), REQUEST, async () => huge);
    expect(crashed).toMatchObject({
      deferred: true,
      reason: expect.stringMatching(/^authentication worker/),
    });
    expect(pool.stats().workers).toBe(0);
    const next = await pool.inspect(Buffer.from(MESSAGE), { ...REQUEST, ip: '192.0.2.11' }, zoneResolver());
    expect(verdictsOf(next).spf.result).toBe('pass');
  });

  it('close() ends the workers; a check in progress reports deferred', async () => {
    const pool = newPool({ size: 2 });
    await Promise.all([1, 2].map(() => pool.inspect(Buffer.from(MESSAGE), REQUEST, zoneResolver())));
    expect(pool.stats().workers).toBeGreaterThanOrEqual(1);
    const hanging = pool.inspect(Buffer.from(MESSAGE), REQUEST, () => new Promise(() => {}));
    await pool.close();
    expect(await hanging).toEqual({ deferred: true, reason: 'the authentication pool is closed' });
    expect(pool.stats()).toEqual({ workers: 0, checks: 0 });
  });

  it('the main event loop keeps running while a worker hashes a large message', async () => {
    const pool = newPool({ size: 1 });
    await pool.warm();
    // Five relaxed body hashes (different l=) of 8 MiB of lines that all need rewriting: CPU-bound work.
    const body = `${'a \t b  '.repeat(128)}\r\n`.repeat(8 << 10);
    const lengths = [1, 2, 3, 4, 5].map((n) => ({ maxBodyLength: body.length - n }));
    const raw = await signed(MESSAGE.replace('Hello\r\n', body), lengths);
    let ticks = 0;
    const interval = setInterval(() => ticks++, 5);
    try {
      const outcome = await pool.inspect(raw, REQUEST, zoneResolver());
      expect(verdictsOf(outcome).dkim).toHaveLength(5);
    } finally {
      clearInterval(interval);
    }
    // Were the hashing done on this thread, its one synchronous pass would leave no room for a tick.
    expect(ticks).toBeGreaterThanOrEqual(3);
  });

  it('an idle pool does not keep the process alive', async () => {
    const script = `
      const { AuthWorkerPool, createStaticResolver } = await import(${JSON.stringify(
        fileURLToPath(new URL('../../lib/auth/index.ts', import.meta.url)),
      )});
      const pool = new AuthWorkerPool();
      const outcome = await pool.inspect(Buffer.from('From: a@example.com\\r\\n\\r\\nhi\\r\\n'),
        { ip: '192.0.2.1', helo: 'h', mailFrom: 'a@example.com', authservId: 'mx.test', dmarcReject: false },
        createStaticResolver({}));
      console.log(outcome.deferred ? 'deferred' : 'checked');`;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { timeout: 20_000 },
    );
    expect(stdout.trim()).toBe('checked');
  });
});
