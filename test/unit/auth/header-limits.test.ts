import { generateKeyPairSync } from 'node:crypto';
import { dkimSign } from 'mailauth';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  authenticateMessage,
  checkHeaderLimits,
  createStaticResolver,
  DEFAULT_HEADER_LIMITS,
  type HeaderLimits,
} from '../../../lib/auth/index.ts';

const AUTHSERV_ID = 'mx.mailroom.test';
let privateKey: string;
let publicKeyTxt: string[];

beforeAll(() => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const p = pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  publicKeyTxt = `v=DKIM1; k=rsa; p=${p}`.match(/.{1,255}/g)!;
});

const resolver = () =>
  createStaticResolver({
    'example.com': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
    '_dmarc.example.com': { TXT: ['v=DMARC1; p=reject'] },
    'sel1._domainkey.example.com': { TXT: [publicKeyTxt] },
  });

const check = (raw: Buffer, headerLimits?: Partial<HeaderLimits>) =>
  authenticateMessage(raw, {
    ip: '192.0.2.10',
    helo: 'mail.example.com',
    mailFrom: 'ada@example.com',
    resolver: resolver(),
    authservId: AUTHSERV_ID,
    now: new Date('2025-07-01T10:01:00Z'),
    ...(headerLimits ? { headerLimits } : {}),
  });

/** The freeze: a Subject folded over `lines` continuation lines. */
const foldedSubject = (lines: number) =>
  Buffer.from(`From: ada@example.com\r\nSubject: x\r\n${' y\r\n'.repeat(lines)}\r\nbody\r\n`);

const sig = (h: string, extra = '') =>
  `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel1; h=${h}; bh=AA; b=AA${extra}\r\n`;

async function sign(message: string, canonicalization: string): Promise<Buffer> {
  const { signatures, errors } = await dkimSign(message, {
    canonicalization,
    signatureData: [{ signingDomain: 'example.com', selector: 'sel1', privateKey }],
    signTime: new Date('2025-07-01T10:00:00Z'),
  } as Parameters<typeof dkimSign>[1]);
  expect(errors).toEqual([]);
  return Buffer.from(signatures + message);
}

describe('checkHeaderLimits', () => {
  const fields = (n: number) => Array.from({ length: n }, (_, i) => `X-F${i}: v\r\n`).join('');
  const cases: Array<[keyof HeaderLimits, (n: number) => string]> = [
    // Each message has exactly n of what the limit counts (the empty line ending the block counts as bytes).
    ['maxHeaderBytes', (n) => `Subject: ${'x'.repeat(n - 13)}\r\n\r\n`],
    ['maxFields', (n) => `${fields(n)}\r\n`],
    ['maxContinuationLines', (n) => `Subject: x\r\n${' y\r\n'.repeat(n)}\r\n`],
    ['maxLineBreakRun', (n) => `Subject: a${'\r'.repeat(n - 2)}\r\nTo: b\r\n\r\n`],
    ['maxSignedHeaders', (n) => `${sig(Array(n).fill('from').join(':'))}\r\n`],
    ['maxSeparatorRun', (n) => `${sig('from', ';'.repeat(n - 2))}\r\n`], // + CRLF
  ];
  it.each(cases)('%s: at the limit passes, one over is reported with its count', (limit, message) => {
    const max = DEFAULT_HEADER_LIMITS[limit];
    expect(checkHeaderLimits(Buffer.from(message(max)))).toBeNull();
    expect(checkHeaderLimits(Buffer.from(message(max + 1)))).toMatchObject({ limit, found: max + 1, max });
  });

  it('reads the header block as mailauth does: up to the first empty line, or all without one', () => {
    const body = ' y\r\n'.repeat(10_000); // looks like continuation lines, but is in the body
    expect(checkHeaderLimits(Buffer.from(`Subject: x\r\n\r\n${body}`))).toBeNull();
    expect(checkHeaderLimits(Buffer.from(`Subject: x\n\n${body}`))).toBeNull();
    expect(checkHeaderLimits(Buffer.from(`Subject: x\r\n${body}`))?.limit).toBe('maxContinuationLines');
    // Whichever empty line (LF LF or LF CR LF) comes first ends the block.
    const folded = ' y\n'.repeat(10_000);
    expect(checkHeaderLimits(Buffer.from(`Subject: x\n\n${folded}\r\n\r\n`))).toBeNull();
    expect(checkHeaderLimits(Buffer.from(`Subject: x\r\n\r\n${folded}\n\n`))).toBeNull();
    expect(checkHeaderLimits(Buffer.from(`Subject: x\n${folded}\n\r\n`))?.limit).toBe('maxContinuationLines');
    expect(checkHeaderLimits(Buffer.from(`Subject: x\r\n${folded}\n\n`))?.limit).toBe('maxContinuationLines');
  });

  it('limits can be set per call', () => {
    expect(checkHeaderLimits(foldedSubject(10), { maxContinuationLines: 5 })?.message).toBe(
      'header block too complex: 10 continuation lines, limit 5',
    );
  });
});

describe('authenticateMessage on a header block over a limit', () => {
  it('the 150,000-line folded Subject is never read by mailauth: verdicts say which limit', async () => {
    const raw = foldedSubject(150_000);
    const v = await check(raw, { maxHeaderBytes: 1 << 20 });
    const comment = 'header block too complex: 150000 continuation lines, limit 5000';
    expect(v.dkim).toEqual([{ result: 'permerror', domain: null, selector: null, aligned: null, comment }]);
    expect(v.dmarc).toMatchObject({ result: 'permerror', domain: null, comment });
    expect(v.arc).toMatchObject({ result: 'fail', comment });
    // SPF needs only the SMTP transaction, so it is still checked.
    expect(v.spf).toMatchObject({ result: 'pass', domain: 'example.com' });
    // With the default limits the same message is over the size limit first.
    expect((await check(raw)).dkim[0]?.comment).toMatch(/^header block too complex: \d+ bytes of header/);
  });

  it('a signature listing thousands of header names is not looked up field by field', async () => {
    const raw = Buffer.from(`${sig(Array(10_000).fill('zz').join(':'))}From: ada@example.com\r\n\r\nhi\r\n`);
    const v = await check(raw);
    expect(v.dkim[0]?.comment).toBe(
      'header block too complex: 10000 header names in one signature h= tag, limit 256',
    );
  });
});

describe('DKIM still verifies as before', () => {
  const message = (body: string) =>
    'From: Ada <ada@example.com>\r\nTo: support@mailroom.example\r\nSubject: hi\r\n' +
    'Date: Tue, 01 Jul 2025 10:00:00 +0000\r\n\r\n' +
    body;

  it.each(['relaxed/relaxed', 'simple/simple'])('%s, with a 2 MiB single-line body', async (canon) => {
    const raw = await sign(message(`${'a \t b  '.repeat(1 << 18)}\r\nend\r\n`), canon);
    const v = await check(raw);
    expect(v.dkim).toMatchObject([{ result: 'pass', domain: 'example.com', selector: 'sel1' }]);
    expect(v.dmarc.result).toBe('pass');
  });

  it('a changed long line still fails the body hash', async () => {
    const raw = await sign(message(`${'x'.repeat(1 << 20)}\r\n`), 'relaxed/relaxed');
    const tampered = Buffer.from(raw.toString('latin1').replace(/x{10}\r\n$/, 'xxxxxxxxxy\r\n'), 'latin1');
    const v = await check(tampered);
    expect(v.dkim[0]).toMatchObject({ result: 'neutral', comment: expect.stringMatching(/body hash/) });
  });
});
