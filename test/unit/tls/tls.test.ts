import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { devCertificate, loadTlsCredentials, TlsConfigError } from '../../../lib/tls/index.ts';

describe('TLS credentials', () => {
  it('makes a dev certificate once and reuses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-tls-'));
    const first = await devCertificate(dir, 'mx.example.test');
    const cert = new X509Certificate(first.cert);
    expect(cert.subject).toContain('CN=mx.example.test');
    expect(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(first.key))).toBe(true);
    expect(await devCertificate(dir, 'mx.example.test')).toEqual(first);
  });

  it('loads PEM text or files and refuses a key that does not match', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-tls-'));
    const a = await devCertificate(join(dir, 'a'), 'a.test');
    const b = await devCertificate(join(dir, 'b'), 'b.test');
    expect(await loadTlsCredentials({ cert: a.cert, key: join(dir, 'a', 'tls', 'dev-key.pem') })).toEqual(a);
    await expect(loadTlsCredentials({ cert: a.cert, key: b.key })).rejects.toThrow(TlsConfigError);
    await expect(loadTlsCredentials({ cert: '/nope.pem', key: a.key })).rejects.toThrow(/smtp\.tls\.cert/);
  });
});
