import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookVerificationError } from './errors.ts';

/** The signature scheme prefix of Standard Webhooks (HMAC-SHA256). */
const SCHEME = 'v1';

/**
 * The key bytes of a Standard Webhooks secret: `whsec_<base64>` decodes the base64 part;
 * any other string is used as its UTF-8 bytes.
 */
export function webhookSecretKey(secret: string): Buffer {
  if (secret.startsWith('whsec_')) return Buffer.from(secret.slice('whsec_'.length), 'base64');
  return Buffer.from(secret, 'utf8');
}

/**
 * Signs one webhook request the Standard Webhooks way.
 * @returns the `webhook-signature` header value, `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
 */
export function signWebhook(input: {
  secret: string;
  /** The `webhook-id` header value. */
  id: string;
  /** The `webhook-timestamp` header value, in Unix seconds. */
  timestamp: number;
  body: string | Buffer;
}): string {
  const mac = createHmac('sha256', webhookSecretKey(input.secret))
    .update(`${input.id}.${input.timestamp}.`)
    .update(input.body)
    .digest('base64');
  return `${SCHEME},${mac}`;
}

type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Checks a received webhook: the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers, a
 * timestamp within `toleranceSeconds` of now (replay protection), and at least one `v1` signature
 * (space-separated, as during key rotation) equal to the expected one, compared in constant time.
 * @throws WebhookVerificationError saying what was wrong.
 */
export function verifyWebhook(input: {
  secret: string;
  /** Fetch `Headers` or a Node `IncomingHttpHeaders`-like record (names case-insensitive). */
  headers: HeaderSource;
  /** The request body exactly as received. */
  body: string | Buffer;
  /** @default 300 */
  toleranceSeconds?: number;
  /** Current time in Unix seconds. @default Math.floor(Date.now() / 1000) */
  now?: number;
}): void {
  const id = header(input.headers, 'webhook-id');
  const timestampText = header(input.headers, 'webhook-timestamp');
  const signatures = header(input.headers, 'webhook-signature');
  if (!id || !timestampText || !signatures) {
    throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature header');
  }
  if (!/^\d{1,15}$/.test(timestampText)) throw new WebhookVerificationError('invalid webhook-timestamp');
  const timestamp = Number(timestampText);
  const now = input.now ?? Math.floor(Date.now() / 1000);
  const tolerance = input.toleranceSeconds ?? 300;
  if (Math.abs(now - timestamp) > tolerance) {
    throw new WebhookVerificationError('webhook-timestamp outside the tolerance window');
  }
  const expected = Buffer.from(
    signWebhook({ secret: input.secret, id, timestamp, body: input.body }).slice(SCHEME.length + 1),
    'base64',
  );
  for (const candidate of signatures.split(' ')) {
    const comma = candidate.indexOf(',');
    if (comma < 0 || candidate.slice(0, comma) !== SCHEME) continue;
    const given = Buffer.from(candidate.slice(comma + 1), 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return;
  }
  throw new WebhookVerificationError('no matching webhook signature');
}
