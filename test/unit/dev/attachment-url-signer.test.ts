import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AttachmentUrlSigner,
  loadUrlKey,
  serverOrigin,
  URL_KEY_FILE,
} from '../../../lib/dev/attachment-url-signer.ts';

const ref = { messageId: 'm-1', index: 2, sha256: 'ab'.repeat(32) };
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function statusOf(fn: () => unknown): number | null {
  try {
    fn();
    return null;
  } catch (err) {
    return (err as { status: number }).status;
  }
}

describe('AttachmentUrlSigner', () => {
  let clock = Date.parse('2026-12-01T10:00:00Z');
  const signer = new AttachmentUrlSigner(Buffer.alloc(32, 7), () => new Date(clock));

  it('verifies its own token until it expires, then answers 410', () => {
    clock = Date.parse('2026-12-01T10:00:00Z');
    const token = signer.sign(ref, 60);
    expect(signer.verify(token)).toEqual({ ...ref, expiresAt: Date.parse('2026-12-01T10:01:00Z') / 1000 });
    clock += 59_999;
    expect(signer.verify(token).index).toBe(2);
    clock += 1;
    expect(statusOf(() => signer.verify(token))).toBe(410);
  });

  it('answers 403 for a changed body, a changed signature, another key or garbage', () => {
    clock = Date.parse('2026-12-01T10:00:00Z');
    const token = signer.sign(ref, 60);
    const [body, mac] = token.split('.') as [string, string];
    const otherBody = Buffer.from(JSON.stringify(['m-1', 3, ref.sha256, 9_999_999_999])).toString(
      'base64url',
    );
    expect(statusOf(() => signer.verify(`${otherBody}.${mac}`))).toBe(403);
    expect(statusOf(() => signer.verify(`${body}.${mac.slice(0, -2)}AA`))).toBe(403);
    expect(statusOf(() => new AttachmentUrlSigner(Buffer.alloc(32, 8)).verify(token))).toBe(403);
    // The last character of a 32-byte MAC has 2 unused bits: every other spelling of it must fail too.
    const last = mac.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (const c of alphabet.replace(last, '')) {
      expect(statusOf(() => signer.verify(`${body}.${mac.slice(0, -1)}${c}`))).toBe(403);
    }
    expect(statusOf(() => signer.verify(`${body}.${mac}=`))).toBe(403);
    for (const junk of ['', 'x', 'a.b.c', `${body}.`, '.'.repeat(2000)]) {
      expect(statusOf(() => signer.verify(junk))).toBe(403);
    }
  });

  it('refuses a correctly signed token whose fields are malformed', () => {
    const key = Buffer.alloc(32, 7);
    const body = Buffer.from(JSON.stringify({ not: 'a list' })).toString('base64url');
    const mac = createHmac('sha256', key).update(body).digest('base64url');
    expect(statusOf(() => signer.verify(`${body}.${mac}`))).toBe(403);
  });
});

describe('loadUrlKey', () => {
  it('makes a 32-byte key readable by the owner only, and reads the same one back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-key-'));
    dirs.push(dir);
    const key = await loadUrlKey(dir);
    expect(key.length).toBe(32);
    expect(statSync(join(dir, URL_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(await loadUrlKey(dir)).toEqual(key);
  });

  it('refuses a key file of the wrong length, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-key-'));
    dirs.push(dir);
    writeFileSync(join(dir, URL_KEY_FILE), 'short');
    await expect(loadUrlKey(dir)).rejects.toThrow(/attachment-url\.key is not a 32-byte key/);
  });
});

describe('serverOrigin', () => {
  it('names loopback for wildcard addresses and brackets IPv6', () => {
    expect(serverOrigin('127.0.0.1', 8025)).toBe('http://127.0.0.1:8025');
    expect(serverOrigin('0.0.0.0', 8025)).toBe('http://127.0.0.1:8025');
    expect(serverOrigin('::', 8025)).toBe('http://[::1]:8025');
    expect(serverOrigin('localhost', 1)).toBe('http://localhost:1');
  });
});
