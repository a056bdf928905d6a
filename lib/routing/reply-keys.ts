import { InsecureReplyKeyError } from './errors.ts';

/**
 * The signing key the example config falls back to when `MAILROOM_REPLY_KEY` is not set. It is public
 * (it is in this repository), so anyone can sign reply tokens with it: `mailroom smtp` and the processing
 * Lambda refuse to start with it; `mailroom dev` accepts it.
 */
export const DEV_REPLY_KEY = 'dev-only-reply-key-change-me';

/** Keys starting with this are development keys (mark your own local keys with it to get the same guard). */
export const DEV_REPLY_KEY_PREFIX = 'dev-only-';

/**
 * Shortest signing key production accepts, in characters. HMAC-SHA256 keys should carry at least 256
 * bits; 32 characters of base64 carry 192 and of hex 128, so this is a floor against typed passwords, not a
 * measure of entropy: make keys with `openssl rand -base64 32` (44 characters).
 */
export const MIN_PRODUCTION_REPLY_KEY_LENGTH = 32;

/** Fewest distinct characters a production key may have: catches `aaaa…` and `changeme` repeated. */
const MIN_DISTINCT_CHARACTERS = 8;

/** True for the example's fallback key and any key marked with {@link DEV_REPLY_KEY_PREFIX}. */
export function isDevReplyKey(key: string): boolean {
  return typeof key === 'string' && key.trim().toLowerCase().startsWith(DEV_REPLY_KEY_PREFIX);
}

/** Why `key` must not sign tokens in production ("is the development key", …), or null when it may. */
export function weakReplyKeyReason(key: string): string | null {
  if (typeof key !== 'string') return 'is not a string';
  if (key.trim() === DEV_REPLY_KEY) return 'is the development key';
  if (isDevReplyKey(key)) return `is a development key (it starts with "${DEV_REPLY_KEY_PREFIX}")`;
  if (key.length < MIN_PRODUCTION_REPLY_KEY_LENGTH) {
    return `is ${key.length} characters long; production needs ${MIN_PRODUCTION_REPLY_KEY_LENGTH}+`;
  }
  if (new Set(key).size < MIN_DISTINCT_CHARACTERS) return 'repeats too few characters to be random';
  return null;
}

/**
 * Refuses reply keys that must not sign or verify tokens in production: every listed key is checked, not
 * only the current one, because any listed key verifies tokens.
 * @param keys the config's `replyAddress.keys` (undefined or null: nothing to check)
 * @throws InsecureReplyKeyError naming the first bad key id, one line.
 */
export function assertProductionReplyKeys(keys: Record<string, string> | null | undefined): void {
  for (const [id, key] of Object.entries(keys ?? {})) {
    const reason = weakReplyKeyReason(key);
    if (reason === null) continue;
    throw new InsecureReplyKeyError(
      id,
      `reply key "${id}" (replyAddress.keys.${id}) ${reason}; set MAILROOM_REPLY_KEY (read by the example ` +
        `config) or your own key source to ${MIN_PRODUCTION_REPLY_KEY_LENGTH}+ random characters, ` +
        'e.g. `openssl rand -base64 32`',
    );
  }
}
