import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { mailbox } from '../../../lib/actions/builders.ts';
import { base32Decode, base32Encode } from '../../../lib/routing/base32.ts';
import {
  createReplyToken,
  createRouter,
  DEFAULT_REPLY_TOKEN_LIFETIME_SECONDS,
  type ReplyPayload,
  ReplyTokenError,
  replyAddress,
  verifyReplyToken,
} from '../../../lib/routing/index.ts';
import { decodeReplyPayload, encodeReplyPayload } from '../../../lib/routing/reply-payload.ts';

const keys = { a: 'first-signing-key-0123456789', b: 'second-signing-key-abcdefghij' };
const now = new Date('2030-01-01T00:00:00Z');
const opts = { keys, currentKeyId: 'a', now };
const thirtyDaysOn = new Date('2030-01-31T00:00:00Z');

describe('payload round trip', () => {
  it.each<[string, ReplyPayload]>([
    ['empty', {}],
    ['string', { t: 'ticket' }],
    ['integer', { id: 42 }],
    ['zero', { n: 0 }],
    ['large integer', { n: Number.MAX_SAFE_INTEGER }],
    ['negative', { n: -17 }],
    ['fraction', { x: 1.5 }],
    ['huge float', { x: 1e300 }],
    ['mixed', { t: 'ticket', id: 123456, u: 'ü' }],
    ['empty string and key', { '': '' }],
    ['__proto__ key stays data', JSON.parse('{"__proto__":"x"}') as ReplyPayload],
  ])('%s', (_label, payload) => {
    const bytes = encodeReplyPayload(payload);
    expect(decodeReplyPayload(bytes)).toEqual(payload);
    const token = createReplyToken(payload, opts);
    const v = verifyReplyToken(token, { keys, now });
    expect(v).toEqual({ ok: true, payload, keyId: 'a', expiresAt: thirtyDaysOn });
  });

  it('is compact', () => {
    expect(encodeReplyPayload({ t: 'ticket', id: 42 })).toHaveLength(13);
  });

  it.each<[string, unknown]>([
    ['NaN', { x: Number.NaN }],
    ['Infinity', { x: Number.POSITIVE_INFINITY }],
    ['boolean', { x: true }],
    ['object', { x: {} }],
    ['long key', { ['k'.repeat(64)]: 1 }],
  ])('refuses %s', (_label, payload) => {
    expect(() => createReplyToken(payload as ReplyPayload, opts)).toThrow(ReplyTokenError);
  });

  it.each<[string, number[]]>([
    ['truncated key', [0b0100]],
    ['truncated string', [0b0100, 0x61, 5, 0x61]],
    ['unterminated varint', [0b0101, 0x61, 0x80]],
    ['invalid utf-8', [0b0100, 0x61, 1, 0xff]],
    ['duplicate key', [0b0101, 0x61, 1, 0b0101, 0x61, 2]],
    ['non-finite decimal', [0b0111, 0x61, 3, 0x4e, 0x61, 0x4e]],
  ])('decode refuses %s', (_label, bytes) => {
    expect(decodeReplyPayload(Uint8Array.from(bytes))).toBeNull();
  });
});

describe('base32', () => {
  it.each<[number[], string]>([
    [[], ''],
    [[0x66], 'my'],
    [[0x66, 0x6f], 'mzxq'],
    [[0x66, 0x6f, 0x6f], 'mzxw6'],
    [[0x66, 0x6f, 0x6f, 0x62], 'mzxw6yq'],
    [[0x66, 0x6f, 0x6f, 0x62, 0x61], 'mzxw6ytb'],
    [[0x66, 0x6f, 0x6f, 0x62, 0x61, 0x72], 'mzxw6ytboi'],
  ])('%j ↔ %s (RFC 4648 vectors, lowercase, no padding)', (bytes, text) => {
    expect(base32Encode(Uint8Array.from(bytes))).toBe(text);
    expect([...(base32Decode(text) ?? [])]).toEqual(bytes);
  });

  it.each([['mz'], ['m'], ['mzx'], ['MZXQ'], ['mzx1']])('refuses %j', (text) => {
    expect(base32Decode(text)).toBeNull();
  });
});

describe('verifyReplyToken', () => {
  const token = createReplyToken({ t: 'ticket', id: 99 }, { ...opts, expiresInSeconds: 3600 });
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'a' ? 'b' : 'a') + s.slice(i + 1);

  it('round trip with expiry', () => {
    expect(verifyReplyToken(token, { keys, now })).toEqual({
      ok: true,
      payload: { t: 'ticket', id: 99 },
      keyId: 'a',
      expiresAt: new Date('2030-01-01T01:00:00Z'),
    });
  });

  it('token is lowercase base32 after the key id', () => {
    expect(token).toMatch(/^[a-z0-9][a-z2-7]+$/);
  });

  it.each<[string, () => string, Date, string]>([
    ['uppercased', () => token.toUpperCase(), now, 'ok'],
    ['mixed case', () => token.replace(/[a-m]/g, (c) => c.toUpperCase()), now, 'ok'],
    ['lowercased', () => token.toLowerCase(), now, 'ok'],
    ['just before expiry', () => token, new Date('2030-01-01T00:59:59Z'), 'ok'],
    ['at expiry', () => token, new Date('2030-01-01T01:00:00Z'), 'expired'],
    ['after expiry', () => token, new Date('2031-01-01T00:00:00Z'), 'expired'],
    ['tampered body', () => flip(token, 5), now, 'bad-signature'],
    ['tampered mac', () => flip(token, token.length - 3), now, 'bad-signature'],
    ['tampered key id', () => `b${token.slice(1)}`, now, 'bad-signature'],
    ['unknown key id', () => `z${token.slice(1)}`, now, 'unknown-key'],
    ['truncated', () => token.slice(0, -1), now, 'malformed'],
    ['too short', () => token.slice(0, 10), now, 'malformed'],
    ['empty', () => '', now, 'malformed'],
    ['bad characters', () => `${token.slice(0, 5)}!${token.slice(6)}`, now, 'malformed'],
    ['digits outside the alphabet', () => `${token.slice(0, 5)}0${token.slice(6)}`, now, 'malformed'],
    ['very long', () => 'a'.repeat(1000), now, 'malformed'],
  ])('%s → %s', (_label, make, at, expected) => {
    const v = verifyReplyToken(make(), { keys, now: at });
    expect(v.ok ? 'ok' : v.reason).toBe(expected);
  });

  it('tampering with an expired token reports bad-signature, not expired', () => {
    const v = verifyReplyToken(flip(token, 3), { keys, now: new Date('2040-01-01T00:00:00Z') });
    expect(v).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it('a token signed with another secret under the same id fails', () => {
    const forged = createReplyToken(
      { t: 'ticket', id: 99 },
      { keys: { a: 'attacker-key-0000000000' }, currentKeyId: 'a', now },
    );
    expect(verifyReplyToken(forged, { keys, now })).toEqual({ ok: false, reason: 'bad-signature' });
  });
});

describe('key rotation', () => {
  const old = createReplyToken({ id: 1 }, { keys: { a: keys.a }, currentKeyId: 'a', now });
  const current = createReplyToken({ id: 2 }, { keys, currentKeyId: 'b', now });

  it.each<[string, string, Record<string, string>, string]>([
    ['old token, old key still listed', old, keys, 'ok:a'],
    ['new token, new key', current, keys, 'ok:b'],
    ['old token after the old key is removed', old, { b: keys.b }, 'unknown-key'],
    ['new token against old keys only', current, { a: keys.a }, 'unknown-key'],
  ])('%s', (_label, token, ks, expected) => {
    const v = verifyReplyToken(token, { keys: ks, now });
    expect(v.ok ? `ok:${v.keyId}` : v.reason).toBe(expected);
  });

  it.each<[string, Parameters<typeof createReplyToken>[1]]>([
    ['current key missing', { keys, currentKeyId: 'c' }],
    ['key id too long', { keys: { ab: 'x'.repeat(20) }, currentKeyId: 'ab' }],
    ['uppercase key id', { keys: { A: 'x'.repeat(20) }, currentKeyId: 'A' }],
    ['non-positive lifetime', { ...opts, expiresInSeconds: 0 }],
    ['NaN lifetime', { ...opts, expiresInSeconds: Number.NaN }],
    ['lifetime past 2106', { ...opts, expiresInSeconds: 2 ** 32 }],
  ])('create refuses: %s', (_label, o) => {
    expect(() => createReplyToken({ id: 1 }, o)).toThrow(ReplyTokenError);
  });
});

describe('replyAddress', () => {
  it('builds reply+<token>@domain that the reply route captures and that verifies', () => {
    const address = replyAddress({ t: 'ticket', id: 4242 }, { ...opts, domain: 'Example.com' });
    expect(address).toMatch(/^reply\+[a-z0-9][a-z2-7]+@example\.com$/);
    const router = createRouter({
      domains: ['example.com'],
      routes: [{ name: 'replies', match: 'reply+{token}@example.com', action: mailbox('replies') }],
    });
    // An MTA that uppercases the whole address changes nothing.
    const decision = router.decide(address.toUpperCase(), { mailFrom: 'someone@x.example' });
    const token = decision.matches[0]?.params.token ?? '';
    expect(verifyReplyToken(token, { keys, now })).toMatchObject({
      ok: true,
      payload: { t: 'ticket', id: 4242 },
    });
  });

  it.each<[string, Partial<{ prefix: string; separator: string }>]>([
    ['default prefix', {}],
    ['custom prefix', { prefix: 'r' }],
    ['long prefix', { prefix: 'notifications-reply' }],
    ['custom separator', { separator: '-' }],
  ])('local part stays ≤ 64 (%s) and too-big payloads throw', (_label, extra) => {
    let size = 0;
    let last = '';
    for (;;) {
      try {
        last = replyAddress(
          { d: 'x'.repeat(size) },
          { ...opts, domain: 'example.com', expiresInSeconds: 60, ...extra },
        );
      } catch (e) {
        expect(e).toBeInstanceOf(ReplyTokenError);
        expect((e as Error).message).toMatch(/too large/);
        break;
      }
      expect(last.slice(0, last.lastIndexOf('@')).length).toBeLessThanOrEqual(64);
      size++;
    }
    expect(size).toBeGreaterThan(0);
    expect(last.startsWith(`${extra.prefix ?? 'reply'}${extra.separator ?? '+'}`)).toBe(true);
  });

  it('the default prefix leaves 21 payload bytes next to an expiry', () => {
    const base = { ...opts, domain: 'example.com', expiresInSeconds: 86400 };
    // 9 + 7 + 5 = 21 bytes: fits exactly; one more byte does not.
    const fits = { t: 'ticket', id: 123456789, u: 'u4' };
    expect(encodeReplyPayload(fits)).toHaveLength(21);
    const address = replyAddress(fits, base);
    expect(address.indexOf('@')).toBeLessThanOrEqual(64);
    expect(() => replyAddress({ ...fits, u: 'u40' }, base)).toThrow(/too large/);
  });

  it.each([
    ['empty domain', { domain: '' }],
    ['domain with @', { domain: 'a@b' }],
    ['empty prefix', { domain: 'example.com', prefix: '' }],
    ['prefix with space', { domain: 'example.com', prefix: 'a b' }],
  ])('refuses %s', (_label, extra) => {
    expect(() => replyAddress({ id: 1 }, { ...opts, ...extra })).toThrow(ReplyTokenError);
  });
});

/**
 * A token as versions before the 30-day default minted it without a lifetime: expiry 0 ("never"), built
 * from the documented layout so the test also pins the format.
 */
function tokenWithoutExpiry(payload: ReplyPayload, keyId: string, key: string): string {
  const encoded = encodeReplyPayload(payload);
  const body = Buffer.concat([Buffer.alloc(4), encoded]);
  const mac = createHmac('sha256', key)
    .update('mailroom-reply-v1\0', 'latin1')
    .update(keyId, 'latin1')
    .update(body)
    .digest()
    .subarray(0, 10);
  return keyId + base32Encode(body) + base32Encode(mac);
}

describe('expiry by default', () => {
  it('is 30 days when no lifetime is given', () => {
    expect(DEFAULT_REPLY_TOKEN_LIFETIME_SECONDS).toBe(30 * 86_400);
    const token = createReplyToken({ id: 1 }, opts);
    expect(verifyReplyToken(token, { keys, now: new Date(thirtyDaysOn.getTime() - 1000) })).toMatchObject({
      ok: true,
      expiresAt: thirtyDaysOn,
    });
    expect(verifyReplyToken(token, { keys, now: thirtyDaysOn })).toEqual({ ok: false, reason: 'expired' });
    const address = replyAddress({ id: 1 }, { ...opts, domain: 'example.com' });
    const fromAddress = address.slice('reply+'.length, address.indexOf('@'));
    expect(verifyReplyToken(fromAddress, { keys, now })).toMatchObject({ expiresAt: thirtyDaysOn });
  });

  it('keeps the token format: the expiry is the first 4 body bytes, big-endian Unix seconds', () => {
    const token = createReplyToken({ id: 1 }, { ...opts, expiresInSeconds: 60 });
    const body = base32Decode(token.slice(1, -16))!;
    expect(new DataView(body.buffer, body.byteOffset).getUint32(0)).toBe(now.getTime() / 1000 + 60);
  });

  it('refuses a token without an expiry (older versions) unless allowNoExpiry is set', () => {
    const legacy = tokenWithoutExpiry({ t: 'ticket', id: 9 }, 'a', keys.a);
    expect(verifyReplyToken(legacy, { keys, now })).toEqual({ ok: false, reason: 'expired' });
    expect(verifyReplyToken(legacy, { keys, now, allowNoExpiry: true })).toEqual({
      ok: true,
      payload: { t: 'ticket', id: 9 },
      keyId: 'a',
      expiresAt: null,
    });
    // allowNoExpiry never rescues a bad signature.
    const forged = tokenWithoutExpiry({ t: 'ticket', id: 9 }, 'a', 'attacker-key-0123456789');
    expect(verifyReplyToken(forged, { keys, now, allowNoExpiry: true })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });
});
