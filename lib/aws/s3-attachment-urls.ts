import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_ATTACHMENTS, MAX_URL_EXPIRES_IN } from '../config/index.ts';
import { safeFilename } from '../message/index.ts';
import type { AttachmentPorts, AttachmentRef } from '../pipeline/index.ts';
import type { S3AttachmentStore } from './s3-attachment-store.ts';

/** `type/subtype`, tokens only (no parameters, nothing a header could be split with). */
const CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

export interface S3AttachmentPortsOptions {
  /** Signs the URLs: its credentials are the ones the URL acts with (see {@link presignedAttachmentUrl}). */
  client: S3Client;
  store: S3AttachmentStore;
  /** Seconds a URL works: the config's `attachments.urlExpiresIn`. @default 3600 (the config's default) */
  expiresIn?: number;
}

/** The processor's attachment ports: the S3 store, and presigned GET URLs for payloads and handlers. */
export function s3AttachmentPorts(options: S3AttachmentPortsOptions): AttachmentPorts {
  const expiresIn = urlSeconds(options.expiresIn);
  return {
    store: options.store,
    url: (ref) => presignedAttachmentUrl(options.client, options.store, ref, expiresIn),
  };
}

/**
 * An S3 presigned GET of the attachment's object that answers with its content type and a safe filename
 * (`image/*` inline, everything else as a download). The URL acts with the signer's credentials: signed
 * with a Lambda role's session credentials it stops working when that session ends, whatever `expiresIn`
 * says (at most the function's credential lifetime).
 */
export async function presignedAttachmentUrl(
  client: S3Client,
  store: S3AttachmentStore,
  ref: Pick<AttachmentRef, 'sha256' | 'filename' | 'contentType'>,
  expiresIn: number,
  options: { download?: boolean } = {},
): Promise<string> {
  const contentType = responseContentType(ref.contentType);
  const inline = !options.download && contentType.startsWith('image/') && contentType !== 'image/svg+xml';
  const command = new GetObjectCommand({
    Bucket: store.bucket,
    Key: store.keyOf(ref.sha256),
    ResponseContentType: contentType,
    ResponseContentDisposition: contentDisposition(inline ? 'inline' : 'attachment', ref.filename),
  });
  // Loaded on the first URL, not at the processor's cold start: most messages have no attachment to link.
  const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
  return getSignedUrl(client, command, { expiresIn });
}

/** The content type a URL answers with: the part's when it is a plain `type/subtype`, else octet-stream. */
export function responseContentType(contentType: string): string {
  const lower = contentType.trim().toLowerCase();
  return CONTENT_TYPE.test(lower) ? lower : 'application/octet-stream';
}

/** `attachment; filename="…"; filename*=UTF-8''…` with the sender's name made safe (RFC 6266). */
export function contentDisposition(kind: 'inline' | 'attachment', filename: string | null): string {
  const name = safeFilename(filename);
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\%;]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

/** `expiresIn` checked: a whole number of seconds from 1 to seven days. */
export function urlSeconds(value: number | undefined): number {
  const seconds = value ?? DEFAULT_ATTACHMENTS.urlExpiresIn;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_URL_EXPIRES_IN) {
    throw new RangeError(`attachment URL expiry must be 1 to ${MAX_URL_EXPIRES_IN} seconds, got ${value}`);
  }
  return seconds;
}
