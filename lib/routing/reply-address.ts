import { createHmac, timingSafeEqual } from 'node:crypto';
import { base32Decode, base32Encode } from './base32.ts';
import { ReplyTokenError } from './errors.ts';
import { decodeReplyPayload, encodeReplyPayload, type ReplyPayload } from './reply-payload.ts';

/**
 * Signed reply tokens, for addresses such as `reply+<token>@example.com`.
 *
 * Layout (all lowercase, so an MTA that lowercases local parts breaks nothing):
 * `<key id: 1 char a–z/0–9><base32(body)><base32(mac)>` where
 * - body = expiry as 4-byte big-endian Unix seconds followed by the compact payload (see
 *   `encodeReplyPayload`). New tokens always carry an expiry (30 days unless `expiresInSeconds` says
 *   otherwise); 0 ("never") is what older versions wrote without a lifetime, and is refused unless the
 *   verifier passes `allowNoExpiry`: such a token cannot be told apart from one forged with a leaked key
 *   long ago, and it would stay valid forever;
 * - mac = the first 10 bytes (80 bits, 16 base32 characters) of HMAC-SHA256 under the key, over a fixed
 *   context string, the key id and the body.
 * Verification lowercases the token first and compares MACs in constant time.
 * Capacity: with the default `reply+` prefix, 21 payload bytes fit (e.g. `{ t: 'ticket', id: 123456789, u: 'u4' }`).
 */

const MAC_BYTES = 10;
const MAC_CHARS = 16;
const EXPIRY_BYTES = 4;
const MIN_BODY_CHARS = 7; // base32 length of the 4 expiry bytes
const CONTEXT = Buffer.from('mailroom-reply-v1\0', 'latin1');
const KEY_ID = /^[a-z0-9]$/;
const LOCAL_PART_MAX = 64;

/** Lifetime of a reply token when `expiresInSeconds` is not given: 30 days. */
export const DEFAULT_REPLY_TOKEN_LIFETIME_SECONDS = 30 * 86_400;

/** What creating a token needs. Compatible with the config's `replyAddress` section. */
export interface ReplyTokenOptions {
  /** Signing keys by one-character id (a–z, 0–9). Keep retired keys here while their tokens should verify. */
  keys: Record<string, string>;
  /** The key that signs new tokens. */
  currentKeyId: string;
  /** Lifetime of the token, in seconds (up to the year 2106). @default 2_592_000 (30 days) */
  expiresInSeconds?: number;
  /** Clock. @default new Date() */
  now?: Date;
  /** Longest token accepted. @default 58 (fits a 64-character local part after `reply+`) */
  maxLength?: number;
}

/** What verifying a token needs. */
export interface ReplyTokenVerifyOptions {
  keys: Record<string, string>;
  /** Clock. @default new Date() */
  now?: Date;
  /**
   * Accept tokens without an expiry (minted by versions before expiry became the default). Only for a
   * migration: such tokens never expire.
   * @default false (they fail as `expired`)
   */
  allowNoExpiry?: boolean;
}

/** Why a token did not verify. */
export type ReplyTokenFailure = 'malformed' | 'bad-signature' | 'expired' | 'unknown-key';

/** The outcome of {@link verifyReplyToken}. */
export type ReplyTokenVerification =
  | { ok: true; payload: ReplyPayload; keyId: string; expiresAt: Date | null }
  | { ok: false; reason: ReplyTokenFailure };

/** Options of {@link replyAddress}: the token options plus where the address points. */
export interface CreateReplyAddressOptions extends Omit<ReplyTokenOptions, 'maxLength'> {
  /** Domain of the address, one of the configured domains. */
  domain: string;
  /** Local part before the separator; route it with `'<prefix>+{token}@<domain>'`. @default 'reply' */
  prefix?: string;
  /** @default '+' */
  separator?: string;
}

function mac(key: string, keyId: string, body: Uint8Array): Buffer {
  return createHmac('sha256', key)
    .update(CONTEXT)
    .update(keyId, 'latin1')
    .update(body)
    .digest()
    .subarray(0, MAC_BYTES);
}

function hasKey(keys: Record<string, string>, id: string): boolean {
  return keys !== null && typeof keys === 'object' && Object.hasOwn(keys, id) && typeof keys[id] === 'string';
}

/**
 * Signs a payload into a token.
 * @throws ReplyTokenError for an unknown or malformed key id, an empty key, a bad lifetime, a payload value
 * that is not a string or finite number, or a token longer than `maxLength`.
 */
export function createReplyToken(payload: ReplyPayload, options: ReplyTokenOptions): string {
  const {
    keys,
    currentKeyId,
    expiresInSeconds = DEFAULT_REPLY_TOKEN_LIFETIME_SECONDS,
    now = new Date(),
    maxLength = 58,
  } = options;
  if (typeof currentKeyId !== 'string' || !KEY_ID.test(currentKeyId)) {
    throw new ReplyTokenError(
      `reply key id ${JSON.stringify(currentKeyId)} must be one character a–z or 0–9`,
    );
  }
  if (!hasKey(keys, currentKeyId) || keys[currentKeyId] === '') {
    throw new ReplyTokenError(`reply key id ${JSON.stringify(currentKeyId)} is not in keys`);
  }
  if (typeof expiresInSeconds !== 'number' || !Number.isFinite(expiresInSeconds) || expiresInSeconds <= 0) {
    throw new ReplyTokenError('expiresInSeconds must be a positive number');
  }
  const expiry = Math.ceil(now.getTime() / 1000 + expiresInSeconds);
  if (expiry > 0xffffffff) throw new ReplyTokenError('reply token expiry is past the year 2106');
  let encoded: Uint8Array;
  try {
    encoded = encodeReplyPayload(payload);
  } catch (cause) {
    throw new ReplyTokenError((cause as Error).message, { cause });
  }
  const body = new Uint8Array(EXPIRY_BYTES + encoded.length);
  new DataView(body.buffer).setUint32(0, expiry);
  body.set(encoded, EXPIRY_BYTES);
  const token =
    currentKeyId + base32Encode(body) + base32Encode(mac(keys[currentKeyId]!, currentKeyId, body));
  if (token.length > maxLength) {
    throw new ReplyTokenError(
      `reply payload too large: the token is ${token.length} characters, at most ${maxLength} fit ` +
        `(an email local part holds 64); use shorter keys and values (${encoded.length} payload bytes now)`,
    );
  }
  return token;
}

/**
 * Checks a token's signature and expiry and returns its payload. Case-insensitive. Never throws.
 * Every key in `keys` is tried by id, so rotated-out keys keep verifying until removed. A token without
 * an expiry fails as `expired` unless `allowNoExpiry` is set.
 */
export function verifyReplyToken(token: string, options: ReplyTokenVerifyOptions): ReplyTokenVerification {
  if (typeof token !== 'string' || token.length > 256) return { ok: false, reason: 'malformed' };
  const t = token.trim().toLowerCase();
  if (t.length < 1 + MIN_BODY_CHARS + MAC_CHARS) return { ok: false, reason: 'malformed' };
  const keyId = t[0]!;
  if (!KEY_ID.test(keyId)) return { ok: false, reason: 'malformed' };
  const body = base32Decode(t.slice(1, -MAC_CHARS));
  const given = base32Decode(t.slice(-MAC_CHARS));
  if (!body || !given || body.length < EXPIRY_BYTES || given.length !== MAC_BYTES) {
    return { ok: false, reason: 'malformed' };
  }
  if (!hasKey(options.keys, keyId)) return { ok: false, reason: 'unknown-key' };
  if (!timingSafeEqual(mac(options.keys[keyId]!, keyId, body), given)) {
    return { ok: false, reason: 'bad-signature' };
  }
  const expiry = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(0);
  const payload = decodeReplyPayload(body.subarray(EXPIRY_BYTES));
  if (!payload) return { ok: false, reason: 'malformed' };
  const now = options.now ?? new Date();
  if (expiry === 0 ? options.allowNoExpiry !== true : now.getTime() >= expiry * 1000) {
    return { ok: false, reason: 'expired' };
  }
  return { ok: true, payload, keyId, expiresAt: expiry === 0 ? null : new Date(expiry * 1000) };
}

/**
 * Builds a signed reply address: `<prefix><separator><token>@<domain>`.
 * @throws ReplyTokenError as {@link createReplyToken} does, or when the local part would exceed 64 characters.
 */
export function replyAddress(payload: ReplyPayload, options: CreateReplyAddressOptions): string {
  const { domain, prefix = 'reply', separator = '+', ...tokenOptions } = options;
  if (typeof prefix !== 'string' || prefix === '' || /[\s@<>"]/.test(prefix)) {
    throw new ReplyTokenError(`reply address prefix ${JSON.stringify(prefix)} is not a usable local part`);
  }
  if (typeof separator !== 'string' || separator === '' || /[\s@<>"]/.test(separator)) {
    throw new ReplyTokenError(`reply address separator ${JSON.stringify(separator)} is not usable`);
  }
  const host = typeof domain === 'string' ? domain.trim().toLowerCase().replace(/\.$/, '') : '';
  if (host === '' || /[\s@<>"]/.test(host)) {
    throw new ReplyTokenError(`reply address domain ${JSON.stringify(domain)} is not a domain name`);
  }
  const room = LOCAL_PART_MAX - prefix.length - separator.length;
  const token = createReplyToken(payload, { ...tokenOptions, maxLength: room });
  return `${prefix}${separator}${token}@${host}`;
}
