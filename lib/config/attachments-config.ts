import * as z from 'zod';

/** Which attachments are kept (stored once, content-addressed) and how long their URLs work. */
export interface AttachmentOptions {
  /** Keep attachment content at all; false: attachments are described (name, type, size, hash) only. @default true */
  store?: boolean;
  /**
   * Content types whose attachments are kept: `type/subtype` or `type/*` (`image/*`, `application/pdf`),
   * matched case-insensitively against the part's declared type. @default every type
   */
  contentTypes?: string[];
  /** Decoded bytes kept at most per attachment; larger ones are described but not kept. @default 52_428_800 (50 MiB) */
  maxSize?: number;
  /** Seconds an attachment URL in a webhook, Lambda or EventBridge payload works. @default 3600; at most 604800 (7 days) */
  urlExpiresIn?: number;
}

export interface ResolvedAttachmentOptions {
  store: boolean;
  /** Null: every type. */
  contentTypes: string[] | null;
  maxSize: number;
  urlExpiresIn: number;
}

export const DEFAULT_ATTACHMENTS: Readonly<ResolvedAttachmentOptions> = Object.freeze({
  store: true,
  contentTypes: null,
  maxSize: 50 * 1024 * 1024,
  urlExpiresIn: 3600,
});

/** The longest an S3 presigned URL (SigV4) can work: 7 days. */
export const MAX_URL_EXPIRES_IN = 7 * 24 * 3600;

const TYPE_PATTERN = /^([a-z0-9][a-z0-9!#$&^_.+-]{0,126})\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]{0,126})$/i;

/** The config's `attachments` section (see {@link AttachmentOptions}). */
export const attachmentsSchema = z
  .object({
    store: z.boolean({ message: 'must be true or false (whether attachment content is kept)' }).optional(),
    contentTypes: z
      .array(
        z.string().regex(TYPE_PATTERN, {
          message: 'must be a content type such as "application/pdf" or a pattern such as "image/*"',
        }),
        { message: 'must be a list of content types such as ["image/*", "application/pdf"]' },
      )
      .optional(),
    maxSize: z
      .number({ message: 'must be a number of bytes' })
      .int({ message: 'must be a whole number of bytes' })
      .positive({ message: 'must be more than 0 bytes' })
      .optional(),
    urlExpiresIn: z
      .number({ message: 'must be a number of seconds' })
      .int({ message: 'must be a whole number of seconds' })
      .min(1, { message: 'must be at least 1 second' })
      .max(MAX_URL_EXPIRES_IN, { message: `must be at most ${MAX_URL_EXPIRES_IN} seconds (7 days)` })
      .optional(),
  })
  .strict()
  .optional()
  .transform(
    (a): ResolvedAttachmentOptions => ({
      store: a?.store ?? DEFAULT_ATTACHMENTS.store,
      contentTypes: a?.contentTypes ? a.contentTypes.map((t) => t.toLowerCase()) : null,
      maxSize: a?.maxSize ?? DEFAULT_ATTACHMENTS.maxSize,
      urlExpiresIn: a?.urlExpiresIn ?? DEFAULT_ATTACHMENTS.urlExpiresIn,
    }),
  );

/** Whether `contentType` (a part's declared type, parameters allowed) matches one of `patterns` (null: all). */
export function contentTypeKept(patterns: readonly string[] | null, contentType: string): boolean {
  if (patterns === null) return true;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  const major = type.split('/')[0];
  return patterns.some((p) => p === type || (p.endsWith('/*') && p.slice(0, -2) === major));
}
