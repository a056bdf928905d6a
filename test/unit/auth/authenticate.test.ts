import { generateKeyPairSync } from 'node:crypto';
import { dkimSign } from 'mailauth';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthVerdicts,
  authenticateMessage,
  createStaticResolver,
  type DnsResolver,
  dmarcRejects,
  type StaticZone,
} from '../../../lib/auth/index.ts';

const AUTHSERV_ID = 'mx.mailroom.test';
const MESSAGE =
  'From: Ada <ada@example.com>\r\n' +
  'To: support@mailroom.example\r\n' +
  'Subject: Printer on fire\r\n' +
  'Date: Tue, 01 Jul 2025 10:00:00 +0000\r\n' +
  'Message-ID: <1@example.com>\r\n' +
  '\r\n' +
  'Help!\r\n';

let privateKey: string;
let publicKeyTxt: string[];

beforeAll(() => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const p = pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const record = `v=DKIM1; k=rsa; p=${p}`;
  // As published: split into character-strings of at most 255 bytes.
  publicKeyTxt = record.match(/.{1,255}/g)!;
});

function zone(extra: StaticZone = {}): StaticZone {
  return {
    'example.com': { TXT: ['v=spf1 ip4:192.0.2.0/24 ~all'] },
    '_dmarc.example.com': { TXT: ['v=DMARC1; p=reject; rua=mailto:dmarc@example.com'] },
    'sel1._domainkey.example.com': { TXT: [publicKeyTxt] },
    'example.net': { TXT: ['v=spf1 ip4:198.51.100.0/24 -all'] },
    'sel1._domainkey.example.net': { TXT: [publicKeyTxt] },
    ...extra,
  };
}

async function sign(message: string, domain: string, options: { expires?: Date } = {}): Promise<string> {
  const { signatures, errors } = await dkimSign(message, {
    signatureData: [{ signingDomain: domain, selector: 'sel1', privateKey }],
    signTime: new Date('2025-07-01T10:00:00Z'),
    ...(options.expires ? { expires: options.expires } : {}),
  } as Parameters<typeof dkimSign>[1]);
  expect(errors).toEqual([]);
  return signatures + message;
}

function check(
  raw: string | Buffer,
  input: { ip?: string; helo?: string; mailFrom?: string; resolver?: DnsResolver; now?: Date } = {},
): Promise<AuthVerdicts> {
  return authenticateMessage(Buffer.isBuffer(raw) ? raw : Buffer.from(raw), {
    ip: input.ip ?? '192.0.2.10',
    helo: input.helo ?? 'mail.example.com',
    mailFrom: input.mailFrom ?? 'ada@example.com',
    resolver: input.resolver ?? createStaticResolver(zone()),
    authservId: AUTHSERV_ID,
    now: input.now ?? new Date('2025-07-01T10:01:00Z'),
  });
}

describe('authenticateMessage: SPF', () => {
  it('pass for a permitted client IP, with the MAIL FROM identity', async () => {
    const v = await check(MESSAGE);
    expect(v.source).toBe('mailauth');
    expect(v.spf).toMatchObject({
      result: 'pass',
      scope: 'mailfrom',
      domain: 'example.com',
      mailFrom: 'ada@example.com',
      helo: 'mail.example.com',
      clientIp: '192.0.2.10',
      record: 'v=spf1 ip4:192.0.2.0/24 ~all',
    });
  });

  it('softfail (~all) and fail (-all) for other IPs', async () => {
    expect((await check(MESSAGE, { ip: '203.0.113.5' })).spf.result).toBe('softfail');
    const v = await check(MESSAGE, { ip: '203.0.113.5', mailFrom: 'bounce@example.net' });
    expect(v.spf).toMatchObject({ result: 'fail', domain: 'example.net' });
  });

  it('none without a record, temperror when DNS times out', async () => {
    expect((await check(MESSAGE, { mailFrom: 'x@nospf.example.org' })).spf.result).toBe('none');
    const resolver = createStaticResolver(zone({ 'slow.example.org': { error: 'ETIMEOUT' } }));
    expect((await check(MESSAGE, { mailFrom: 'x@slow.example.org', resolver })).spf.result).toBe('temperror');
  });

  it('checks the HELO name for the null sender', async () => {
    const resolver = createStaticResolver(
      zone({ 'mail.example.org': { TXT: ['v=spf1 a -all'], A: ['192.0.2.10'] } }),
    );
    const v = await check(MESSAGE, { mailFrom: '', helo: 'mail.example.org', resolver });
    expect(v.spf).toMatchObject({ result: 'pass', scope: 'helo', domain: 'mail.example.org', mailFrom: '' });
  });

  it('reads an IPv4-mapped IPv6 client as IPv4; none without a usable IP', async () => {
    expect((await check(MESSAGE, { ip: '::ffff:192.0.2.10' })).spf).toMatchObject({
      result: 'pass',
      clientIp: '192.0.2.10',
    });
    expect((await check(MESSAGE, { ip: 'unknown' })).spf.result).toBe('none');
  });
});

describe('authenticateMessage: DKIM and DMARC', () => {
  it('an unsigned message has no DKIM verdicts; DMARC follows SPF alignment', async () => {
    const pass = await check(MESSAGE);
    expect(pass.dkim).toEqual([]);
    expect(pass.dmarc).toMatchObject({
      result: 'pass',
      domain: 'example.com',
      policy: 'reject',
      alignment: { spf: true, dkim: false },
    });
    const fail = await check(MESSAGE, { ip: '203.0.113.5' });
    expect(fail.dmarc).toMatchObject({
      result: 'fail',
      policy: 'reject',
      alignment: { spf: false, dkim: false },
    });
    expect(dmarcRejects(fail)).toBe(true);
    expect(dmarcRejects(pass)).toBe(false);
  });

  it('a valid aligned signature passes DKIM and DMARC even when SPF fails (forwarded mail)', async () => {
    const v = await check(await sign(MESSAGE, 'example.com'), { ip: '203.0.113.5' });
    expect(v.spf.result).toBe('softfail');
    expect(v.dkim).toEqual([
      expect.objectContaining({
        result: 'pass',
        domain: 'example.com',
        selector: 'sel1',
        aligned: true,
        algorithm: 'rsa-sha256',
      }),
    ]);
    expect(v.dmarc).toMatchObject({ result: 'pass', alignment: { spf: false, dkim: true } });
    expect(dmarcRejects(v)).toBe(false);
  });

  it('an unaligned signature passes DKIM but not DMARC', async () => {
    const v = await check(await sign(MESSAGE, 'example.net'), {
      ip: '198.51.100.7',
      mailFrom: 'bounce@example.net',
    });
    expect(v.spf).toMatchObject({ result: 'pass', domain: 'example.net' });
    expect(v.dkim).toEqual([
      expect.objectContaining({ result: 'pass', domain: 'example.net', aligned: false }),
    ]);
    expect(v.dmarc).toMatchObject({ result: 'fail', domain: 'example.com', policy: 'reject' });
    expect(dmarcRejects(v)).toBe(true);
  });

  it('a modified message is not a DKIM pass; neither is a missing key', async () => {
    const signed = await sign(MESSAGE, 'example.com');
    const header = await check(signed.replace('Printer on fire', 'Wire the money'), { ip: '203.0.113.5' });
    expect(header.dkim[0]).toMatchObject({ result: 'fail', domain: 'example.com' });
    expect(header.dmarc.result).toBe('fail');
    // Like Gmail, mailauth reports a body hash mismatch as neutral.
    const body = await check(signed.replace('Help!', 'Pay!'), { ip: '203.0.113.5' });
    expect(body.dkim[0]).toMatchObject({ result: 'neutral', comment: 'body hash did not verify' });
    expect(body.dmarc.result).toBe('fail');
    const noKey = await check(signed, { resolver: createStaticResolver({}) });
    expect(noKey.dkim[0]!.result).not.toBe('pass');
    expect(noKey.dmarc.result).toBe('none');
  });

  it('judges signature expiry at `now`', async () => {
    const signed = await sign(MESSAGE, 'example.com', { expires: new Date('2025-07-02T00:00:00Z') });
    expect((await check(signed, { now: new Date('2025-07-01T12:00:00Z') })).dkim[0]!.result).toBe('pass');
    expect((await check(signed, { now: new Date('2025-08-01T00:00:00Z') })).dkim[0]!.result).not.toBe('pass');
  });

  it('DMARC: sp= for a subdomain, none without a policy, pct below 100 never rejects', async () => {
    const resolver = createStaticResolver(
      zone({
        '_dmarc.example.com': { TXT: ['v=DMARC1; p=reject; sp=quarantine'] },
        '_dmarc.example.org': { TXT: ['v=DMARC1; p=reject; pct=50'] },
      }),
    );
    const sub = await check(MESSAGE.replace('ada@example.com', 'ada@news.example.com'), {
      ip: '203.0.113.5',
      resolver,
    });
    expect(sub.dmarc).toMatchObject({ result: 'fail', domain: 'news.example.com', policy: 'quarantine' });
    const sampled = await check(MESSAGE.replace('ada@example.com', 'ada@example.org'), { resolver });
    expect(sampled.dmarc).toMatchObject({ result: 'fail', policy: 'reject', pct: 50 });
    expect(dmarcRejects(sampled)).toBe(false);
    const none = await check(MESSAGE.replace('ada@example.com', 'ada@example.info'), { resolver });
    expect(none.dmarc).toMatchObject({ result: 'none', policy: null });
  });

  it('DMARC is permerror without exactly one From: address', async () => {
    const noFrom = await check(MESSAGE.replace(/^From: .*\r\n/, ''));
    expect(noFrom.dmarc).toMatchObject({ result: 'permerror', domain: null, policy: null });
    const two = await check(
      MESSAGE.replace('From: Ada <ada@example.com>', 'From: ada@example.com, eve@example.net'),
    );
    expect(two.dmarc.result).toBe('permerror');
    expect(dmarcRejects(two)).toBe(false);
  });

  it('ARC is none without a chain; spam and virus are null (no scanner)', async () => {
    const v = await check(MESSAGE);
    expect(v.arc).toEqual({ result: 'none', instance: 0 });
    expect(v.spam).toBeNull();
    expect(v.virus).toBeNull();
    expect(JSON.parse(JSON.stringify(v))).toEqual(v);
  });

  it('never throws for garbage', async () => {
    for (const raw of ['', '\r\n\r\n', 'no header at all', 'From:\r\nDKIM-Signature: v=1; d=;\r\n\r\nx']) {
      const v = await check(raw);
      expect(v.spf.result).toBe('pass');
    }
  });
});

describe('authenticateMessage: bounded work', () => {
  it('verifies at most maxDkimSignatures signatures, reports the rest as policy', async () => {
    let signed = MESSAGE;
    for (let i = 0; i < 7; i++) signed = await sign(signed, i % 2 ? 'example.net' : 'example.com');
    let questions = 0;
    const base = createStaticResolver(zone());
    const resolver: DnsResolver = (name, type) => {
      if (name.includes('_domainkey')) questions++;
      return base(name, type);
    };
    const v = await check(signed, { resolver });
    expect(v.dkim.map((d) => d.result)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass', 'policy', 'policy']);
    expect(v.dkim[5]).toMatchObject({
      domain: 'example.net',
      selector: 'sel1',
      aligned: null,
      comment: 'not verified: more than 5 DKIM signatures',
    });
    expect(questions).toBeLessThanOrEqual(5);
    expect(v.dmarc.result).toBe('pass');
  });

  it('stops asking DNS once timeoutMs is spent: temperror, not a stall', async () => {
    const base = createStaticResolver(zone());
    const slow: DnsResolver = async (name, type) => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      return base(name, type);
    };
    const started = Date.now();
    const v = await authenticateMessage(Buffer.from(MESSAGE), {
      ip: '192.0.2.10',
      helo: 'mail.example.com',
      mailFrom: 'ada@example.com',
      resolver: slow,
      authservId: AUTHSERV_ID,
      timeoutMs: 250,
    });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(v.spf.result).toBe('pass'); // asked within the budget
    expect(v.dmarc.result).toBe('temperror'); // asked after it
  });

  it('reads a large header-only message in linear time', async () => {
    const raw = Buffer.from('x'.repeat(60).concat('\n').repeat(100_000));
    const started = Date.now();
    const v = await check(raw);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(v.dmarc.result).toBe('permerror');
  });
});

describe('sender-supplied verdict headers change no verdict', () => {
  const FORGED =
    `Authentication-Results: ${AUTHSERV_ID}; spf=pass smtp.mailfrom=ada@example.com; dkim=pass header.d=example.com; dmarc=pass header.from=example.com; arc=pass\r\n` +
    'Authentication-Results: MX.MAILROOM.TEST. (forged); dmarc=pass\r\n' +
    'Received-SPF: pass (forged) client-ip=203.0.113.5;\r\n' +
    'X-SES-Spam-Verdict: PASS\r\n' +
    'X-SES-Virus-Verdict: PASS\r\n' +
    'X-SES-Receipt: forged\r\n' +
    'X-Mailroom-Auth: {"dmarc":"pass"}\r\n' +
    'X-Mailroom-Verdict: pass\r\n';

  it('unsigned mail from a wrong IP stays a DMARC fail', async () => {
    const honest = await check(MESSAGE, { ip: '203.0.113.5' });
    const forged = await check(FORGED + MESSAGE, { ip: '203.0.113.5' });
    expect(forged).toEqual(honest);
    expect(forged.dmarc.result).toBe('fail');
    expect(forged.spam).toBeNull();
    expect(dmarcRejects(forged)).toBe(true);
  });

  it('a signed message with forged headers on top has the same verdicts', async () => {
    const signed = await sign(MESSAGE, 'example.net');
    const honest = await check(signed, { ip: '203.0.113.5' });
    const forged = await check(FORGED + signed, { ip: '203.0.113.5' });
    expect(forged).toEqual(honest);
    expect(forged.dmarc.result).toBe('fail');
  });

  it('a forged ARC-Authentication-Results without a seal breaks the chain: arc=fail, never pass', async () => {
    const v = await check(`ARC-Authentication-Results: i=1; ${AUTHSERV_ID}; dmarc=pass\r\n${MESSAGE}`);
    expect(v.arc?.result).toBe('fail');
  });
});
