import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../lib/config/resolve-config.ts';
import { startLocalMailroom } from '../../../lib/dev/local-mailroom.ts';
import type { Logger } from '../../../lib/kernel/index.ts';
import { hashPassword, LoginLimiter } from '../../../lib/submission/index.ts';
import { devCertificate, type TlsCredentials } from '../../../lib/tls/index.ts';
import { expectCode, RawSmtpClient, startTestIngress, type TestIngress } from '../smtp/helpers.ts';

const PASSWORD = 'correct horse battery staple';
const raw = 'From: scanner@example.com\r\nTo: support@example.com\r\nSubject: Scan\r\n\r\nscanned\r\n';
let dir: string;
let cert: TlsCredentials;
let users: Record<string, string>;
const logs: Array<{ message: string; fields: unknown }> = [];
const logger: Logger = {
  debug() {},
  info: (message: string, fields?: unknown) => logs.push({ message, fields }),
  warn: (message: string, fields?: unknown) => logs.push({ message, fields }),
  error: (message: string, fields?: unknown) => logs.push({ message, fields }),
};
let t: TestIngress;

function transport(pass: string, user = 'scanner') {
  return createTransport({
    host: '127.0.0.1',
    port: t.port,
    secure: false,
    requireTLS: true,
    tls: { ca: [cert.cert] },
    auth: { user, pass },
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailroom-submission-'));
  cert = await devCertificate(dir, 'mx.test.example');
  users = { scanner: await hashPassword(PASSWORD) };
  t = await startTestIngress({
    tls: cert,
    submission: { users, loginLimiter: new LoginLimiter(3, 60_000) },
    logger,
    // The limiter counts per address; loopback is exempt only from the connection limits.
  });
});
afterAll(async () => {
  await t.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('submission listener', () => {
  it('refuses AUTH before STARTTLS (530 5.7.0) and does not advertise it', async () => {
    const { client, ehlo } = await RawSmtpClient.open(t.port);
    expect(ehlo.lines).toContain('250-STARTTLS');
    expect(ehlo.text).not.toMatch(/AUTH/);
    const auth = await client.command(
      `AUTH PLAIN ${Buffer.from(`\0scanner\0${PASSWORD}`).toString('base64')}`,
    );
    expect(auth.text).toBe('530 5.7.0 Must issue a STARTTLS command first');
    expect((await client.command('MAIL FROM:<scanner@example.com>')).text).toBe(
      '530 5.7.0 Authentication required',
    );
    client.close();
  });

  it('after STARTTLS: advertises AUTH PLAIN LOGIN; MAIL FROM without AUTH is 530 5.7.0', async () => {
    const { client } = await RawSmtpClient.open(t.port);
    await expectCode(client.command('STARTTLS'), 220);
    const secure = await client.startTls();
    const ehlo = await secure.command('EHLO client.test');
    expect(ehlo.lines.some((l) => /^250-AUTH PLAIN LOGIN$/.test(l))).toBe(true);
    expect((await secure.command('MAIL FROM:<scanner@example.com>')).text).toBe(
      '530 5.7.0 Authentication required',
    );
    secure.close();
  });

  it('accepts the right password and stores the message (ESMTPSA)', async () => {
    const before = t.accepted.length;
    const tr = transport(PASSWORD);
    const info = await tr.sendMail({
      envelope: { from: 'scanner@example.com', to: ['support@example.com'] },
      raw,
    });
    tr.close();
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as /);
    expect(t.accepted).toHaveLength(before + 1);
    const stored = (await t.store.get(t.accepted.at(-1)!.id)).toString('latin1');
    expect(stored).toMatch(/with ESMTPSA id /);
  });

  it('never relays: a recipient outside our domains is refused 550 5.7.1 even when authenticated', async () => {
    const tr = transport(PASSWORD);
    const err = await tr
      .sendMail({ envelope: { from: 'scanner@example.com', to: ['someone@elsewhere.test'] }, raw })
      .catch((e: { responseCode?: number; response?: string }) => e);
    tr.close();
    expect(err).toMatchObject({ responseCode: 550 });
    expect((err as { response: string }).response).toMatch(/^550 5\.7\.1 /);
  });

  it('refuses a wrong password 535 5.7.8, logs the failure without the password, and limits failures', async () => {
    const attempt = async (pass: string, user?: string) => {
      const tr = transport(pass, user);
      const result = await tr
        .sendMail({ envelope: { from: 'scanner@example.com', to: ['support@example.com'] }, raw })
        .then(
          () => 'sent',
          (e: { response?: string }) => e.response ?? String(e),
        );
      tr.close();
      return result;
    };
    expect(await attempt('wrong password 1')).toBe('535 5.7.8 Authentication credentials invalid');
    expect(await attempt('wrong password 2', 'nobody')).toBe('535 5.7.8 Authentication credentials invalid');
    expect(await attempt('wrong password 3')).toBe('535 5.7.8 Authentication credentials invalid');
    // Three failures from this address: even the right password is now refused, without checking it.
    expect(await attempt(PASSWORD)).toBe('454 4.7.0 Too many failed logins, try again later');
    const failures = logs.filter((l) => l.message === 'submission login failed');
    expect(failures).toHaveLength(3);
    expect(failures[0]!.fields).toMatchObject({ username: 'scanner', remoteAddress: expect.any(String) });
    const logged = JSON.stringify(logs);
    expect(logged).not.toContain('wrong password');
    expect(logged).not.toContain(PASSWORD);
  });
});

describe('submission: parallel logins', () => {
  it('20 parallel wrong AUTHs from one address get 5 password checks; the rest 454 without one', async () => {
    const failed: unknown[] = [];
    const parallel = await startTestIngress({
      tls: cert,
      submission: { users, loginLimiter: new LoginLimiter(5, 60_000, 10_000, 100) },
      logger: {
        ...logger,
        warn: (message: string, fields?: unknown) => {
          if (message === 'submission login failed') failed.push(fields);
        },
      },
    });
    try {
      const clients = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const { client } = await RawSmtpClient.open(parallel.port);
          await expectCode(client.command('STARTTLS'), 220);
          const secure = await client.startTls();
          await expectCode(secure.command('EHLO client.test'), 250);
          return secure;
        }),
      );
      // All 20 AUTH commands are sent before any answer can come back.
      const auth = `AUTH PLAIN ${Buffer.from('\0scanner\0wrong').toString('base64')}`;
      const replies = await Promise.all(clients.map((c) => c.command(auth)));
      for (const c of clients) c.close();
      const codes = replies.map((r) => r.text.slice(0, 9)).sort();
      expect(codes.filter((c) => c === '535 5.7.8')).toHaveLength(5);
      expect(codes.filter((c) => c === '454 4.7.0')).toHaveLength(15);
      expect(failed).toHaveLength(5);
    } finally {
      await parallel.stop();
    }
  });

  it('LoginLimiter.begin: checks under way count as failures; a global cap on checks at once', () => {
    const limiter = new LoginLimiter(2, 1000, 100, 3);
    expect(limiter.begin('a', 0)).toBeNull();
    expect(limiter.begin('a', 0)).toBeNull();
    expect(limiter.begin('a', 0)).toBe('address'); // two checks under way: the limit is reached
    limiter.succeed('a');
    expect(limiter.begin('a', 0)).toBeNull();
    expect(limiter.begin('b', 0)).toBeNull();
    expect(limiter.begin('c', 0)).toBe('busy'); // three checks running in all
    limiter.fail('b', 0);
    expect(limiter.begin('c', 0)).toBeNull();
  });
});

describe('submission config and wiring', () => {
  it('rejects a plain password in submission.users, naming the field', () => {
    expect(() =>
      resolveConfig({ domains: ['example.com'], routes: [], submission: { users: { app: 'hunter2' } } }),
    ).toThrow(/submission\.users\.app: must be a scrypt hash/);
  });

  it('mailroom dev wiring: a second listener whose mail is routed and stored like any other', async () => {
    const config = resolveConfig({
      domains: ['example.com'],
      routes: [{ match: 'support@example.com', action: { kind: 'mailbox', mailbox: 'support' } }],
      dataDir: join(dir, 'dev'),
      submission: { users },
    });
    const silent = { debug() {}, info() {}, warn() {}, error() {} };
    const m = await startLocalMailroom({
      config,
      logger: silent,
      smtpPort: 0,
      submissionPort: 0,
      http: false,
      devTls: true,
    });
    try {
      expect(m.submissionPort).toEqual(expect.any(Number));
      const devCert = await devCertificate(join(dir, 'dev'), config.smtp.hostname);
      const events: Array<{ type: string; id: string; delivery?: unknown }> = [];
      m.pipeline.onEvent((e) => events.push(e));
      const tr = createTransport({
        host: '127.0.0.1',
        port: m.submissionPort!,
        requireTLS: true,
        tls: { ca: [devCert.cert] },
        auth: { user: 'scanner', pass: PASSWORD },
      });
      const info = await tr.sendMail({
        envelope: { from: 'scanner@example.com', to: ['support@example.com'] },
        raw,
      });
      tr.close();
      const id = /queued as (\S+)/.exec(info.response)?.[1];
      expect(id).toBeTruthy();
      await m.pipeline.drain();
      await expect.poll(() => events.some((e) => e.type === 'message.processed' && e.id === id)).toBe(true);
      expect(events.find((e) => e.type === 'message.received' && e.id === id)).toBeTruthy();
      expect(m.router.checkRecipient('someone@elsewhere.test', { mailFrom: '' })).toMatchObject({
        accepted: false,
        code: 550,
      });
    } finally {
      await m.close();
    }
  });
});
