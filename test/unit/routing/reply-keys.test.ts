import { describe, expect, it } from 'vitest';
import { replyKeys } from '../../../examples/reply-keys.ts';
import {
  assertProductionReplyKeys,
  DEV_REPLY_KEY,
  InsecureReplyKeyError,
  isDevReplyKey,
  MIN_PRODUCTION_REPLY_KEY_LENGTH,
  weakReplyKeyReason,
} from '../../../lib/routing/index.ts';

/** What `openssl rand -base64 32` gives: 44 characters. */
const strong = 'q3JvbG9uZy1yYW5kb20ta2V5LW1hZGUtZm9yLXRlc3Rz';

function refusal(keys: Record<string, string>): InsecureReplyKeyError {
  try {
    assertProductionReplyKeys(keys);
  } catch (err) {
    expect(err).toBeInstanceOf(InsecureReplyKeyError);
    return err as InsecureReplyKeyError;
  }
  throw new Error('expected a refusal');
}

describe('development reply keys', () => {
  it("the example config's fallback is the development key", () => {
    // Only true when the test environment sets no MAILROOM_REPLY_KEY, which is what a fresh deploy has.
    if (!process.env.MAILROOM_REPLY_KEY) expect(replyKeys.keys.a).toBe(DEV_REPLY_KEY);
    expect(isDevReplyKey(DEV_REPLY_KEY)).toBe(true);
  });

  it('any key marked dev-only- is a development key, whatever its length', () => {
    expect(isDevReplyKey('dev-only-my-laptop-key-0123456789abcdefghijklmnop')).toBe(true);
    expect(isDevReplyKey('  DEV-ONLY-shouting  ')).toBe(true);
    expect(isDevReplyKey(strong)).toBe(false);
  });
});

describe('assertProductionReplyKeys', () => {
  it('accepts strong keys and configs without reply keys', () => {
    expect(() => assertProductionReplyKeys({ a: strong, b: `${strong}x` })).not.toThrow();
    expect(() => assertProductionReplyKeys(undefined)).not.toThrow();
    expect(() => assertProductionReplyKeys(null)).not.toThrow();
  });

  it('refuses the development key with one line naming the setting', () => {
    const err = refusal({ a: DEV_REPLY_KEY });
    expect(err.keyId).toBe('a');
    expect(err.message).toBe(
      'reply key "a" (replyAddress.keys.a) is the development key; set MAILROOM_REPLY_KEY (read by the ' +
        'example config) or your own key source to 32+ random characters, e.g. `openssl rand -base64 32`',
    );
  });

  it.each<[string, string, RegExp]>([
    ['a marked development key', `dev-only-${strong}`, /is a development key \(it starts with "dev-only-"\)/],
    ['a short key', 'sixteen-chars-ok-for-dev', /is 24 characters long; production needs 32\+/],
    ['a repeated pattern', 'changeme'.repeat(5), /repeats too few characters/],
  ])('refuses %s', (_label, key, reason) => {
    expect(refusal({ a: key }).message).toMatch(reason);
  });

  it('checks retired keys too: any listed key verifies tokens', () => {
    const err = refusal({ b: strong, a: DEV_REPLY_KEY });
    expect(err.keyId).toBe('a');
  });

  it('the minimum is 32 characters', () => {
    expect(MIN_PRODUCTION_REPLY_KEY_LENGTH).toBe(32);
    expect(weakReplyKeyReason(strong.slice(0, 32))).toBeNull();
    expect(weakReplyKeyReason(strong.slice(0, 31))).toMatch(/31 characters/);
  });
});
