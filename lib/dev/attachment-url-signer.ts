import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HttpError } from './errors.ts';

/** What a signed attachment URL names: one attachment of one message, by content, until `expiresAt`. */
export interface AttachmentToken {
  messageId: string;
  index: number;
  sha256: string;
  /** Unix seconds. */
  expiresAt: number;
}

/** The key file in the data directory: 32 random bytes, readable by the owner only. */
export const URL_KEY_FILE = 'attachment-url.key';
const KEY_BYTES = 32;
const MAX_TOKEN_CHARS = 1024;

/** Reads the signing key, making it on first use (`0600`; two processes racing agree on the first one written). */
export async function loadUrlKey(dataDir: string): Promise<Buffer> {
  const path = join(dataDir, URL_KEY_FILE);
  try {
    const file = await open(path, 'wx', 0o600);
    try {
      const key = randomBytes(KEY_BYTES);
      await file.writeFile(key);
      await file.sync();
      return key;
    } finally {
      await file.close();
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const key = await readFile(path);
  if (key.length !== KEY_BYTES) {
    throw new Error(`${path} is not a ${KEY_BYTES}-byte key (delete it to make a new one)`);
  }
  return key;
}

/**
 * Signs and checks the capability tokens of `GET /files/:token`: `base64url(JSON [id, n, sha256, exp])`
 * `.` `base64url(HMAC-SHA256(key, first part))`. The clock is injectable (tests expire URLs without waiting).
 */
export class AttachmentUrlSigner {
  readonly #key: Buffer;
  readonly #now: () => Date;

  constructor(key: Buffer, now: () => Date = () => new Date()) {
    this.#key = key;
    this.#now = now;
  }

  #mac(body: string): Buffer {
    return createHmac('sha256', this.#key).update(body).digest();
  }

  /** A token for `ref` that works for `expiresInSeconds` from now. */
  sign(ref: Omit<AttachmentToken, 'expiresAt'>, expiresInSeconds: number): string {
    const expiresAt = Math.floor(this.#now().getTime() / 1000) + expiresInSeconds;
    const body = Buffer.from(JSON.stringify([ref.messageId, ref.index, ref.sha256, expiresAt])).toString(
      'base64url',
    );
    return `${body}.${this.#mac(body).toString('base64url')}`;
  }

  /**
   * The attachment `token` names.
   * @throws HttpError 403 when it is malformed or its signature is wrong, 410 when it has expired.
   */
  verify(token: string): AttachmentToken {
    const bad = new HttpError(403, 'invalid attachment link');
    if (token.length > MAX_TOKEN_CHARS) throw bad;
    const [body, signature, extra] = token.split('.');
    if (!body || !signature || extra !== undefined) throw bad;
    // Compared as text, not decoded bytes: the last base64url character of a 32-byte MAC has 2 unused
    // bits, so decoding would accept 4 spellings of one signature (a flipped last character still passed).
    const given = Buffer.from(signature, 'latin1');
    const expected = Buffer.from(this.#mac(body).toString('base64url'), 'latin1');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw bad;
    const fields = parseFields(body);
    if (!fields) throw bad;
    if (this.#now().getTime() / 1000 >= fields.expiresAt)
      throw new HttpError(410, 'this attachment link has expired');
    return fields;
  }
}

function parseFields(body: string): AttachmentToken | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 4) return null;
    const [messageId, index, sha256, expiresAt] = value as unknown[];
    if (typeof messageId !== 'string' || typeof sha256 !== 'string') return null;
    if (!Number.isInteger(index) || !Number.isInteger(expiresAt)) return null;
    return { messageId, index: index as number, sha256, expiresAt: expiresAt as number };
  } catch {
    return null;
  }
}

/** The origin the signed URLs name: the dev server's host (a wildcard address means loopback) and port. */
export function serverOrigin(host: string, port: number): string {
  const name = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${name.includes(':') ? `[${name}]` : name}:${port}`;
}
