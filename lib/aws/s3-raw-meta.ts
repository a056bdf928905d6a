import * as z from 'zod';
import type { AuthVerdicts } from '../auth/index.ts';
import type { Envelope } from '../kernel/index.ts';
import { StoredMetaError } from './store-errors.ts';

/** What is kept with each raw message in S3, beside its bytes. */
export interface StoredMessageMeta {
  /** The SMTP envelope (routing goes by it, never by the headers). */
  envelope: Envelope;
  /** The end-of-DATA authentication verdicts, or null when the message was not authenticated on receipt. */
  auth: AuthVerdicts | null;
  /** ISO 8601: when the ingress began writing the message (the end of DATA for most messages). */
  receivedAt: string;
}

/** The S3 user-metadata key (sent as `x-amz-meta-mailroom-meta`). */
export const META_KEY = 'mailroom-meta';

/** The value of {@link META_KEY} when the metadata lives in the sidecar object `<prefix><id>.meta.json`. */
export const META_SIDECAR = 'sidecar';

/**
 * The largest encoded value kept inline. S3 allows 2 KB of user metadata per object (keys and values,
 * UTF-8); this leaves room for the key and for anything S3 or a proxy adds.
 */
export const META_INLINE_MAX = 1800;

/** The version of the JSON shape, so that a later Mailroom can still read what this one wrote. */
const VERSION = 1;

const envelopeSchema = z.object({
  mailFrom: z.string(),
  rcptTo: z.array(z.string()),
  remoteAddress: z.string().optional(),
  helo: z.string().optional(),
});

const metaSchema = z.object({
  v: z.literal(VERSION),
  envelope: envelopeSchema,
  // Verdicts are ours (computed at the end of DATA); only their outline is checked here.
  auth: z
    .object({
      source: z.enum(['mailauth', 'ses']),
      spf: z.unknown(),
      dkim: z.array(z.unknown()),
      dmarc: z.unknown(),
    })
    .loose()
    .nullable()
    .optional(),
  receivedAt: z.iso.datetime({ offset: true }),
});

/** The JSON kept with a message (inline, base64url-encoded, or as the sidecar object's body). */
export function metaJson(meta: StoredMessageMeta): string {
  const given = meta.envelope;
  const envelope: Envelope = { mailFrom: given.mailFrom, rcptTo: [...given.rcptTo] };
  if (given.remoteAddress !== undefined) envelope.remoteAddress = given.remoteAddress;
  if (given.helo !== undefined) envelope.helo = given.helo;
  return JSON.stringify({ v: VERSION, envelope, auth: meta.auth, receivedAt: meta.receivedAt });
}

/** The inline value of {@link META_KEY}, or null when it is too big to go inline (use a sidecar). */
export function encodeInlineMeta(json: string): string | null {
  const value = Buffer.from(json, 'utf8').toString('base64url');
  return value.length <= META_INLINE_MAX ? value : null;
}

/** Parses metadata JSON (from a sidecar, or decoded from the inline value). */
export function parseMetaJson(json: string, where: string): StoredMessageMeta {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (cause) {
    throw new StoredMetaError(`${where}: metadata is not JSON`, { cause });
  }
  const parsed = metaSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StoredMetaError(
      `${where}: unexpected metadata (${issue ? `${issue.path.join('.') || 'value'}: ${issue.message}` : 'invalid'})`,
      { cause: parsed.error },
    );
  }
  const { envelope, auth, receivedAt } = parsed.data;
  const clean: Envelope = { mailFrom: envelope.mailFrom, rcptTo: envelope.rcptTo };
  if (envelope.remoteAddress !== undefined) clean.remoteAddress = envelope.remoteAddress;
  if (envelope.helo !== undefined) clean.helo = envelope.helo;
  return { envelope: clean, auth: (auth ?? null) as AuthVerdicts | null, receivedAt };
}

/** Decodes the inline value of {@link META_KEY} (base64url JSON). */
export function decodeInlineMeta(value: string, where: string): StoredMessageMeta {
  if (!/^[A-Za-z0-9_-]*$/.test(value)) throw new StoredMetaError(`${where}: metadata is not base64url`);
  return parseMetaJson(Buffer.from(value, 'base64url').toString('utf8'), where);
}

/** The sidecar object of a message object: `<prefix><id>.eml` → `<prefix><id>.meta.json`. */
export function sidecarKeyOf(messageKey: string): string {
  return messageKey.replace(/\.eml$/, '') + '.meta.json';
}

/**
 * The metadata stored with a message object, from the user metadata of its GET or HEAD: decoded when it is
 * inline, else read from the sidecar it names through `readSidecar`. Null when the object carries none.
 * @throws StoredMetaError for metadata this version cannot read; whatever `readSidecar` throws.
 */
export async function storedMetaOf(
  metadata: Record<string, string> | undefined,
  object: { bucket: string; key: string },
  readSidecar: (key: string) => Promise<Buffer>,
): Promise<StoredMessageMeta | null> {
  const value = metadata?.[META_KEY];
  if (value === undefined) return null;
  if (value !== META_SIDECAR) return decodeInlineMeta(value, `s3://${object.bucket}/${object.key}`);
  const key = sidecarKeyOf(object.key);
  return parseMetaJson((await readSidecar(key)).toString('utf8'), `s3://${object.bucket}/${key}`);
}
