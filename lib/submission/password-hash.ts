import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt cost parameters for new hashes (N = 2^15, r = 8, p = 1: about 32 MiB and tens of ms). */
const N = 1 << 15;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;

function scryptAsync(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** `scrypt$<N>$<r>$<p>$<salt base64>$<hash base64>`: what config and Secrets Manager hold, never passwords. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

const FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

/** Whether `encoded` is a hash this module can check. */
export function isPasswordHash(encoded: string): boolean {
  return FORMAT.test(encoded);
}

/** Checks a password against a stored hash in constant time. False for a malformed hash. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const m = FORMAT.exec(encoded);
  if (!m) return false;
  const [n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // N must be a power of two above 1; cap the cost so a stored hash cannot make us burn memory or time.
  if (n < 2 || (n & (n - 1)) !== 0 || n > 1 << 20 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const expected = Buffer.from(m[5]!, 'base64');
  try {
    const key = await scryptAsync(password, Buffer.from(m[4]!, 'base64'), n, r, p);
    return key.length === expected.length && timingSafeEqual(key, expected);
  } catch {
    return false;
  }
}
