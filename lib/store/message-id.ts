import { randomFillSync } from 'node:crypto';

/** Crockford's base32 alphabet, lowercase; its characters sort in the order of their values. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** Characters of the millisecond timestamp (50 bits, enough until the year 37648). */
const TIME_CHARS = 10;
/** Characters of randomness (80 bits). */
const RANDOM_CHARS = 16;

/** Matches the ids {@link newMessageId} makes. */
export const MESSAGE_ID_PATTERN = /^[0-9a-hjkmnp-tv-z]{26}$/;

/**
 * A new message id: 10 base32 characters of the current time in milliseconds followed by 16 random
 * base32 characters, all lowercase (26 characters, URL- and file-name-safe).
 *
 * Ids sort by creation time to the millisecond; ids made in the same millisecond are in random order.
 */
export function newMessageId(now: number = Date.now()): string {
  let time = '';
  let t = Math.floor(now);
  for (let i = 0; i < TIME_CHARS; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  if (poolOffset + RANDOM_CHARS > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  let random = '';
  for (let i = 0; i < RANDOM_CHARS; i++) random += ALPHABET[pool[poolOffset++]! & 31];
  return time + random;
}

/** Random bytes fetched in bulk: one call to the CSPRNG per 256 ids instead of one per id. */
const pool = Buffer.alloc(RANDOM_CHARS * 256);
let poolOffset = pool.length;
