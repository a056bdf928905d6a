import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dkimSign } from 'mailauth';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler, mailbox } from '../../lib/actions/builders.ts';
import type { HandlerContext } from '../../lib/actions/types.ts';
import type { StaticZone } from '../../lib/auth/static-resolver.ts';
import type { AuthVerdicts } from '../../lib/auth/verdicts.ts';
import { resolveConfig } from '../../lib/config/resolve-config.ts';
import { type LocalMailroom, startLocalMailroom } from '../../lib/dev/local-mailroom.ts';
import { silentLogger } from '../../lib/kernel/index.ts';
import type { MessageDetail } from '../../lib/store/index.ts';

/**
 * Verdicts through the real SMTP ingress and pipeline, DNS from a static zone: they come from our own
 * checks of the SMTP transaction and the message, never from verdict headers the sender wrote.
 */

const AUTHSERV_ID = 'mx.example.com';
let privateKey: string;
let zone: StaticZone;
let dir: string;
let mr: LocalMailroom;
const invoices: HandlerContext[] = [];

beforeAll(async () => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKey = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicKey = pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  zone = {
    // The sender's domain permits only 192.0.2.0/24; the test client connects from 127.0.0.1.
    'sender.test': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
    '_dmarc.sender.test': { TXT: ['v=DMARC1; p=reject'] },
    'sel1._domainkey.sender.test': { TXT: [`v=DKIM1; k=rsa; p=${publicKey}`.match(/.{1,255}/g)!] },
    // A domain that does permit loopback.
    'local.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
    '_dmarc.local.test': { TXT: ['v=DMARC1; p=none'] },
  };
  dir = mkdtempSync(join(tmpdir(), 'mailroom-auth-'));
  const config = resolveConfig({
    domains: ['example.com'],
    dataDir: dir,
    smtp: { hostname: AUTHSERV_ID },
    delivery: { processingDelayMaxMs: 0, backoffMs: 0 },
    auth: { dns: zone },
    routes: [
      {
        name: 'invoices',
        match: 'invoices@example.com',
        when: { auth: { dmarc: 'pass' } },
        action: handler((ctx) => {
          invoices.push(ctx);
        }, 'invoice-handler'),
      },
      { name: 'review', match: 'invoices@example.com', action: mailbox('review') },
    ],
  });
  mr = await startLocalMailroom({ config, logger: silentLogger, smtpPort: 0, httpPort: 0 });
});

afterAll(async () => {
  await mr?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function send(raw: string, mailFrom: string, helo = 'mail.sender.test'): Promise<string> {
  const transport = createTransport({
    host: '127.0.0.1',
    port: mr.smtpPort,
    secure: false,
    ignoreTLS: true,
    name: helo,
  });
  try {
    await transport.sendMail({ envelope: { from: mailFrom, to: ['invoices@example.com'] }, raw });
  } finally {
    transport.close();
  }
  await mr.pipeline.drain();
  const res = await fetch(`http://127.0.0.1:${mr.httpPort}/api/messages`);
  const { messages } = (await res.json()) as { messages: Array<{ id: string }> };
  return messages[0]!.id;
}

async function detail(id: string): Promise<MessageDetail & { authenticationResults: string | null }> {
  const res = await fetch(`http://127.0.0.1:${mr.httpPort}/api/messages/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as MessageDetail & { authenticationResults: string | null };
}

const message = (extra: string) =>
  `${extra}From: Billing <billing@sender.test>\r\nTo: invoices@example.com\r\nSubject: Invoice 42\r\n` +
  'Message-ID: <inv42@sender.test>\r\nDate: Tue, 01 Jul 2025 10:00:00 +0000\r\n\r\nPlease pay.\r\n';

describe('authentication verdicts on every message (SMTP ingress → pipeline)', () => {
  it('ignores forged Authentication-Results and X-SES verdict headers: the verdicts are what DNS says', async () => {
    const forged = message(
      `Authentication-Results: ${AUTHSERV_ID}; spf=pass smtp.mailfrom=sender.test; dkim=pass header.d=sender.test; dmarc=pass header.from=sender.test\r\n` +
        'X-SES-Spam-Verdict: PASS\r\nX-SES-Virus-Verdict: PASS\r\nReceived-SPF: pass\r\n',
    );
    const id = await send(forged, 'billing@sender.test', 'mail.forger.test');
    const m = await detail(id);
    const auth = m.auth as AuthVerdicts;
    expect(auth.source).toBe('mailauth');
    expect(auth.spf).toMatchObject({
      result: 'fail',
      domain: 'sender.test',
      clientIp: '127.0.0.1',
      helo: 'mail.forger.test',
    });
    expect(auth.dkim).toEqual([]);
    expect(auth.dmarc).toMatchObject({ result: 'fail', domain: 'sender.test', policy: 'reject' });
    expect(auth.spam).toBeNull();
    expect(auth.virus).toBeNull();
    // The client's address and HELO are kept with the record.
    expect(m.envelope).toMatchObject({ remoteAddress: '127.0.0.1', helo: 'mail.forger.test' });
    // Our own header for the verdicts, under our authserv-id.
    expect(m.authenticationResults).toMatch(/^Authentication-Results: mx\.example\.com;\r\n spf=fail/);
    expect(m.authenticationResults).toContain('dmarc=fail');
    expect(m.trace).toContainEqual(
      expect.objectContaining({ step: 'authenticated', detail: 'spf=fail dkim=none dmarc=fail arc=none' }),
    );
    // A DMARC failure never reaches the invoice handler: it falls through to the next route.
    expect(m.deliveries.map((d) => [d.route, d.status])).toEqual([['review', 'delivered']]);
    expect(invoices.some((ctx) => ctx.id === id)).toBe(false);
  });

  it('a DKIM-signed message from the domain passes DMARC and reaches the handler, with ctx.auth', async () => {
    const unsigned = message('');
    const { signatures, errors } = await dkimSign(unsigned, {
      signatureData: [{ signingDomain: 'sender.test', selector: 'sel1', privateKey }],
    } as Parameters<typeof dkimSign>[1]);
    expect(errors).toEqual([]);
    const id = await send(signatures + unsigned, 'billing@sender.test');
    const m = await detail(id);
    expect(m.auth?.spf.result).toBe('fail'); // 127.0.0.1 is not in sender.test's SPF record
    expect(m.auth?.dkim).toEqual([
      expect.objectContaining({ result: 'pass', domain: 'sender.test', aligned: true }),
    ]);
    expect(m.auth?.dmarc.result).toBe('pass');
    expect(m.deliveries.map((d) => [d.route, d.status])).toEqual([['invoices', 'delivered']]);
    const ctx = invoices.find((c) => c.id === id);
    expect(ctx?.auth).toEqual(m.auth);
    expect(ctx?.envelope).toMatchObject({ remoteAddress: '127.0.0.1', helo: 'mail.sender.test' });
  });

  it('an SPF pass from a permitted address aligns DMARC', async () => {
    const raw = message('').replaceAll('sender.test', 'local.test');
    const id = await send(raw, 'billing@local.test', 'mail.local.test');
    const m = await detail(id);
    expect(m.auth?.spf).toMatchObject({ result: 'pass', domain: 'local.test', clientIp: '127.0.0.1' });
    expect(m.auth?.dmarc).toMatchObject({ result: 'pass', policy: 'none' });
    expect(m.deliveries.map((d) => d.route)).toEqual(['invoices']);
  });

  it('a replay keeps the verdicts of the first processing', async () => {
    const id = await send(message(''), 'billing@sender.test');
    const first = await detail(id);
    await mr.pipeline.replay(id);
    const again = await detail(id);
    expect(again.auth).toEqual(first.auth);
    expect(again.trace.filter((t) => t.step === 'authenticated').at(-1)?.detail).toMatch(
      /\(verdicts from the first processing\)$/,
    );
  });

  it('mail injected through the HTTP API has no SMTP client to check: every verdict none, never pass', async () => {
    const res = await fetch(
      `http://127.0.0.1:${mr.httpPort}/api/messages?from=billing@local.test&to=invoices@example.com`,
      {
        method: 'POST',
        headers: { 'content-type': 'message/rfc822' },
        body: message(`Authentication-Results: ${AUTHSERV_ID}; dmarc=pass\r\n`).replaceAll(
          'sender.test',
          'local.test',
        ),
      },
    );
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    await mr.pipeline.drain();
    const m = await detail(id);
    expect(m.auth?.spf.result).toBe('none');
    expect(m.auth?.dmarc.result).toBe('none');
    expect(m.auth?.spf.comment).toMatch(/not received over SMTP/);
    expect(m.envelope.remoteAddress).toBeUndefined();
    expect(m.deliveries.map((d) => d.route)).toEqual(['review']);
  });
});
