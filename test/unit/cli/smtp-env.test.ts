import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../../../lib/cli/errors.ts';
import { applySmtpEnv, s3IngressSettings } from '../../../lib/cli/smtp-env.ts';
import { resolveConfig } from '../../../lib/config/index.ts';
import type { MailroomConfig } from '../../../lib/config/types.ts';
import { devCertificate } from '../../../lib/tls/dev-certificate.ts';

function config(): MailroomConfig {
  return resolveConfig({ domains: ['example.com'], routes: [] });
}

function cliError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as Error).message).not.toContain('\n');
    return (err as Error).message;
  }
  throw new Error('expected a CliError');
}

describe('s3IngressSettings', () => {
  it('is local mode (null) without a bucket', () => {
    expect(s3IngressSettings({}, {})).toBeNull();
    expect(s3IngressSettings({}, { MAILROOM_RAW_BUCKET: '  ', MAILROOM_RAW_PREFIX: 'x/' })).toBeNull();
  });

  it('reads the environment, with defaults', () => {
    expect(s3IngressSettings({}, { MAILROOM_RAW_BUCKET: 'mail-raw-123' })).toEqual({
      bucket: 'mail-raw-123',
      prefix: 'smtp/',
      endpoint: null,
      region: 'us-east-1',
    });
    expect(
      s3IngressSettings(
        {},
        {
          MAILROOM_RAW_BUCKET: 'mail.raw',
          MAILROOM_RAW_PREFIX: 'in/smtp/',
          MAILROOM_S3_ENDPOINT: 'http://127.0.0.1:4568',
          AWS_DEFAULT_REGION: 'eu-west-1',
        },
      ),
    ).toEqual({
      bucket: 'mail.raw',
      prefix: 'in/smtp/',
      endpoint: 'http://127.0.0.1:4568',
      region: 'eu-west-1',
    });
  });

  it('lets flags win over the environment; AWS_REGION over AWS_DEFAULT_REGION', () => {
    expect(
      s3IngressSettings(
        { bucket: 'flag-bucket', prefix: '', endpoint: 'https://s3.example.test' },
        {
          MAILROOM_RAW_BUCKET: 'env-bucket',
          MAILROOM_RAW_PREFIX: 'env/',
          AWS_REGION: 'eu-central-1',
          AWS_DEFAULT_REGION: 'eu-west-1',
        },
      ),
    ).toEqual({
      bucket: 'flag-bucket',
      prefix: '',
      endpoint: 'https://s3.example.test',
      region: 'eu-central-1',
    });
  });

  it('names the flag or variable at fault', () => {
    expect(cliError(() => s3IngressSettings({ bucket: 'Bad_Name' }, {}))).toMatch(/^--s3-bucket: 'Bad_Name'/);
    expect(cliError(() => s3IngressSettings({}, { MAILROOM_RAW_BUCKET: 'ab' }))).toMatch(
      /^MAILROOM_RAW_BUCKET: /,
    );
    expect(cliError(() => s3IngressSettings({}, { MAILROOM_RAW_BUCKET: '192.168.1.1' }))).toMatch(
      /MAILROOM_RAW_BUCKET/,
    );
    expect(
      cliError(() => s3IngressSettings({}, { MAILROOM_RAW_BUCKET: 'ok-bucket', MAILROOM_RAW_PREFIX: '/x' })),
    ).toMatch(/^MAILROOM_RAW_PREFIX: '\/x'/);
    expect(
      cliError(() => s3IngressSettings({ bucket: 'ok-bucket', endpoint: 'localhost:4568' }, {})),
    ).toMatch(/^--s3-endpoint: 'localhost:4568' is not an http\(s\) URL/);
    expect(
      cliError(() =>
        s3IngressSettings({}, { MAILROOM_RAW_BUCKET: 'ok-bucket', MAILROOM_S3_ENDPOINT: 'ftp://x' }),
      ),
    ).toMatch(/^MAILROOM_S3_ENDPOINT: /);
    expect(cliError(() => s3IngressSettings({ prefix: 'smtp/' }, {}))).toMatch(
      /--s3-prefix needs --s3-bucket/,
    );
    expect(cliError(() => s3IngressSettings({ endpoint: 'http://x' }, {}))).toMatch(/--s3-endpoint needs/);
  });
});

describe('applySmtpEnv', () => {
  let dir: string;
  let cert: string;
  let key: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailroom-smtp-env-'));
    ({ cert, key } = await devCertificate(dir, 'mx.example.com'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('changes nothing when the variables are unset or blank', () => {
    const c = config();
    const before = structuredClone({ tls: c.smtp.tls, proxy: c.smtp.proxyProtocol });
    applySmtpEnv(c, { MAILROOM_PROXY_TRUSTED: ' ', MAILROOM_TLS_CERT: '' });
    expect({ tls: c.smtp.tls, proxy: c.smtp.proxyProtocol }).toEqual(before);
  });

  it('takes a certificate and key as PEM text (real or escaped newlines)', () => {
    const c = config();
    applySmtpEnv(c, { MAILROOM_TLS_CERT: cert, MAILROOM_TLS_KEY: key.replace(/\n/g, '\\n') });
    expect(c.smtp.tls).toEqual({ cert, key });
  });

  it('refuses half a pair, file names and a pair that does not match', async () => {
    expect(cliError(() => applySmtpEnv(config(), { MAILROOM_TLS_CERT: cert }))).toBe(
      'MAILROOM_TLS_KEY must be set along with MAILROOM_TLS_CERT',
    );
    expect(cliError(() => applySmtpEnv(config(), { MAILROOM_TLS_KEY: key }))).toBe(
      'MAILROOM_TLS_CERT must be set along with MAILROOM_TLS_KEY',
    );
    expect(
      cliError(() => applySmtpEnv(config(), { MAILROOM_TLS_CERT: '/run/cert.pem', MAILROOM_TLS_KEY: key })),
    ).toMatch(/^MAILROOM_TLS_CERT must hold PEM text/);
    expect(
      cliError(() => applySmtpEnv(config(), { MAILROOM_TLS_CERT: cert, MAILROOM_TLS_KEY: cert })),
    ).toMatch(/^MAILROOM_TLS_KEY must hold PEM text/);
    const other = await devCertificate(await mkdtemp(join(dir, 'other-')), 'mx2.example.com');
    expect(
      cliError(() => applySmtpEnv(config(), { MAILROOM_TLS_CERT: cert, MAILROOM_TLS_KEY: other.key })),
    ).toMatch(/^MAILROOM_TLS_CERT \/ MAILROOM_TLS_KEY: not a usable certificate and key pair/);
  });

  it('sets the trusted proxies from a comma list, keeping the configured timeout', () => {
    const c = config();
    c.smtp.proxyProtocol = { trustedProxies: ['192.0.2.1'], timeoutMs: 3000 };
    applySmtpEnv(c, { MAILROOM_PROXY_TRUSTED: '10.0.0.0/8, 2001:db8::/32 ,,192.0.2.7' });
    expect(c.smtp.proxyProtocol).toEqual({
      trustedProxies: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7'],
      timeoutMs: 3000,
    });
    const fresh = config();
    applySmtpEnv(fresh, { MAILROOM_PROXY_TRUSTED: '10.0.0.0/8' });
    expect(fresh.smtp.proxyProtocol).toEqual({ trustedProxies: ['10.0.0.0/8'], timeoutMs: 10_000 });
  });

  it('names every bad proxy entry', () => {
    expect(
      cliError(() => applySmtpEnv(config(), { MAILROOM_PROXY_TRUSTED: '10.0.0.0/33,nlb,10.1.2.3' })),
    ).toBe("MAILROOM_PROXY_TRUSTED: not an IP address or CIDR range: '10.0.0.0/33', 'nlb'");
  });
});

describe('applySmtpEnv: listener settings', () => {
  it('sets smtp.hostname from MAILROOM_SMTP_HOSTNAME (the greeting and Received: name)', () => {
    const c = config();
    expect(c.smtp.hostname).toBe('mailroom.local');
    applySmtpEnv(c, { MAILROOM_SMTP_HOSTNAME: ' MX.Example.com ' });
    expect(c.smtp.hostname).toBe('mx.example.com');
    const unset = config();
    applySmtpEnv(unset, { MAILROOM_SMTP_HOSTNAME: '' });
    expect(unset.smtp.hostname).toBe('mailroom.local');
  });

  it('refuses a hostname that is not a DNS name', () => {
    for (const bad of ['mx_1.example.com', 'mx..example.com', 'https://mx.example.com', '-mx.example.com']) {
      expect(cliError(() => applySmtpEnv(config(), { MAILROOM_SMTP_HOSTNAME: bad }))).toMatch(
        /^MAILROOM_SMTP_HOSTNAME: '.*' is not a host name/,
      );
    }
  });

  it('moves the submission listener to MAILROOM_SUBMISSION_PORT, only when the config has one', () => {
    const c = resolveConfig({ domains: ['example.com'], routes: [], submission: {} });
    expect(c.submission?.port).toBe(587);
    applySmtpEnv(c, { MAILROOM_SUBMISSION_PORT: '2587' });
    expect(c.submission?.port).toBe(2587);
    expect(cliError(() => applySmtpEnv(config(), { MAILROOM_SUBMISSION_PORT: '2587' }))).toBe(
      'MAILROOM_SUBMISSION_PORT is set but the config has no submission listener',
    );
    for (const bad of ['0', '65536', '25x']) {
      const s = resolveConfig({ domains: ['example.com'], routes: [], submission: {} });
      expect(cliError(() => applySmtpEnv(s, { MAILROOM_SUBMISSION_PORT: bad }))).toMatch(
        /^MAILROOM_SUBMISSION_PORT: '.*' is not a port number/,
      );
    }
  });
});
