import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../lib/config/resolve-config.ts';
import { startLocalMailroom } from '../../../lib/dev/local-mailroom.ts';
import { devCertificate, loadTlsCredentials, type TlsCredentials } from '../../../lib/tls/index.ts';
import { expectCode, RawSmtpClient, startTestIngress, type TestIngress } from './helpers.ts';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
let dir: string;
let cert: TlsCredentials;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailroom-tls-'));
  cert = await devCertificate(dir, 'mx.test.example');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('STARTTLS on the MX listener', () => {
  let t: TestIngress;
  beforeAll(async () => {
    t = await startTestIngress({ tls: cert });
  });
  afterAll(() => t.stop());

  it('advertises STARTTLS (and never AUTH) with a certificate; not again once TLS is up', async () => {
    const { client, ehlo } = await RawSmtpClient.open(t.port);
    expect(ehlo.lines).toContain('250-STARTTLS');
    expect(ehlo.text).not.toMatch(/AUTH/);
    await expectCode(client.command('STARTTLS'), 220);
    const secure = await client.startTls();
    const ehlo2 = await secure.command('EHLO client.test');
    expect(ehlo2.code).toBe(250);
    expect(ehlo2.text).not.toMatch(/STARTTLS|AUTH/);
    expect((await secure.command('AUTH PLAIN AGJvYgBzZWNyZXQ=')).code).toBeGreaterThanOrEqual(500);
    secure.close();
  });

  it('delivers a message from nodemailer with requireTLS, verifying our certificate', async () => {
    const before = t.accepted.length;
    const transport = createTransport({
      host: '127.0.0.1',
      port: t.port,
      secure: false,
      requireTLS: true,
      tls: { ca: [cert.cert] },
    });
    const info = await transport.sendMail({
      envelope: { from: 'ada@sender.test', to: ['support@example.com'] },
      raw: 'From: ada@sender.test\r\nTo: support@example.com\r\nSubject: over TLS\r\n\r\nHello\r\n',
    });
    transport.close();
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as /);
    expect(t.accepted).toHaveLength(before + 1);
    const raw = (await t.store.get(t.accepted.at(-1)!.id)).toString('latin1');
    expect(raw).toMatch(/^Received: from [^\r]*\r\n\tby mx\.test\.example with ESMTPS id /);
    expect(raw).toContain('Subject: over TLS');
  });

  it('discards plaintext pipelined after STARTTLS (command injection, CVE-2011-0411)', async () => {
    const before = t.accepted.length;
    const { client } = await RawSmtpClient.open(t.port);
    client.write('STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\nRCPT TO:<support@example.com>\r\n');
    const ready = await client.reply();
    expect(ready.code).toBe(220);
    const secure = await client.startTls();
    expect(await secure.replyWithin(200)).toBeNull(); // the injected commands got no reply
    await expectCode(secure.command('EHLO client.test'), 250);
    // No transaction was started by the injected MAIL FROM.
    expect((await secure.command('RCPT TO:<support@example.com>')).code).toBe(503);
    expect((await secure.command('DATA')).code).toBe(503);
    secure.close();
    expect(t.accepted).toHaveLength(before);
  });
});

describe('without a certificate', () => {
  let t: TestIngress;
  beforeAll(async () => {
    t = await startTestIngress();
  });
  afterAll(() => t.stop());

  it('offers no STARTTLS and refuses the command (smtp-server’s built-in key is never used)', async () => {
    const { client, ehlo } = await RawSmtpClient.open(t.port);
    expect(ehlo.text).not.toMatch(/STARTTLS|AUTH/);
    expect((await client.command('STARTTLS')).code).toBeGreaterThanOrEqual(500);
    expect((await client.command('AUTH PLAIN AGJvYgBzZWNyZXQ=')).code).toBeGreaterThanOrEqual(500);
    client.close();
  });
});

describe('smtp.tls config', () => {
  it('loads PEM text or files and names the field when they are wrong', async () => {
    const certPath = join(dir, 'cert.pem');
    const keyPath = join(dir, 'key.pem');
    await writeFile(certPath, cert.cert);
    await writeFile(keyPath, cert.key);
    await expect(loadTlsCredentials({ cert: certPath, key: keyPath })).resolves.toEqual(cert);
    await expect(loadTlsCredentials({ cert: join(dir, 'missing.pem'), key: keyPath })).rejects.toThrow(
      /^smtp\.tls\.cert: cannot read /,
    );
    await expect(loadTlsCredentials({ cert: cert.cert, key: cert.cert })).rejects.toThrow(/^smtp\.tls: /);
    expect(() => resolveConfig({ domains: ['example.com'], routes: [], smtp: { tls: 'yes' } })).toThrow(
      /smtp\.tls/,
    );
  });

  it('dev mode makes a self-signed certificate when smtp.tls is unset; `mailroom smtp` offers none', async () => {
    const config = resolveConfig({ domains: ['example.com'], routes: [], dataDir: join(dir, 'data') });
    const dev = await startLocalMailroom({ config, logger: silent, smtpPort: 0, http: false, devTls: true });
    const prod = await startLocalMailroom({
      config: { ...config, dataDir: join(dir, 'data2') },
      logger: silent,
      smtpPort: 0,
      http: false,
    });
    try {
      expect(dev.starttls).toBe(true);
      expect(prod.starttls).toBe(false);
      expect(await readFile(join(dir, 'data', 'tls', 'dev-cert.pem'), 'utf8')).toMatch(/BEGIN CERTIFICATE/);
      const a = await RawSmtpClient.open(dev.smtpPort);
      expect(a.ehlo.lines).toContain('250-STARTTLS');
      a.client.close();
      const b = await RawSmtpClient.open(prod.smtpPort);
      expect(b.ehlo.text).not.toMatch(/STARTTLS/);
      b.client.close();
    } finally {
      await dev.close();
      await prod.close();
    }
  });

  it('refuses to start with a bad certificate, naming smtp.tls', async () => {
    const config = resolveConfig({
      domains: ['example.com'],
      routes: [],
      dataDir: join(dir, 'data3'),
      smtp: { tls: { cert: join(dir, 'nope.pem'), key: join(dir, 'nope.pem') } },
    });
    await expect(startLocalMailroom({ config, logger: silent, smtpPort: 0, http: false })).rejects.toThrow(
      /smtp\.tls\.cert: cannot read/,
    );
  });
});
