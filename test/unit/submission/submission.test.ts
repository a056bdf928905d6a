import { describe, expect, it } from 'vitest';
import { hashPassword, isPasswordHash, LoginLimiter, verifyPassword } from '../../../lib/submission/index.ts';

describe('password hashes (scrypt)', () => {
  it('verifies the right password only, with a fresh salt each time', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(isPasswordHash(hash)).toBe(true);
    expect(hash).not.toContain('correct');
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
    expect(await verifyPassword('Correct horse battery staple', hash)).toBe(false);
    expect(await hashPassword('same')).not.toBe(await hashPassword('same'));
  });

  it('rejects malformed or absurd hashes without throwing', async () => {
    for (const bad of ['', 'plain', 'scrypt$1$1$1$x$y', `scrypt$${2 ** 30}$8$1$AAAA$AAAA`]) {
      expect(await verifyPassword('x', bad)).toBe(false);
    }
  });
});

describe('LoginLimiter', () => {
  it('blocks an address after too many failures in the window, and forgets them later', () => {
    const limiter = new LoginLimiter(3, 1000);
    for (let i = 0; i < 3; i++) limiter.fail('192.0.2.1', 0);
    expect(limiter.allowed('192.0.2.1', 10)).toBe(false);
    expect(limiter.allowed('192.0.2.2', 10)).toBe(true);
    expect(limiter.allowed('192.0.2.1', 1001)).toBe(true);
  });

  it('clears an address on success and stays bounded in memory', () => {
    const limiter = new LoginLimiter(1, 1000, 2);
    limiter.fail('a', 0);
    limiter.succeed('a');
    expect(limiter.allowed('a', 1)).toBe(true);
    limiter.fail('b', 0);
    limiter.fail('c', 0);
    limiter.fail('d', 0);
    expect(limiter.allowed('b', 1)).toBe(true); // forgotten: only the 2 newest are kept
    expect(limiter.allowed('d', 1)).toBe(false);
  });
});
