import { createHash } from 'node:crypto';
import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3AttachmentStore, USED_AT_METADATA } from '../../../lib/aws/s3-attachment-store.ts';
import { s3AttachmentPorts } from '../../../lib/aws/s3-attachment-urls.ts';
import { S3AttachmentStoreError } from '../../../lib/aws/store-errors.ts';
import { type S3rverHandle, s3ClientFor, startS3rver } from '../../support/aws-emulators.ts';

const BUCKET = 'mail';
const MIB = 1024 * 1024;

let s3: S3rverHandle;
let client: S3Client;

beforeAll(async () => {
  s3 = await startS3rver({ buckets: [BUCKET] });
  client = s3ClientFor(s3.endpoint);
});

afterAll(async () => {
  client?.destroy();
  await s3?.close();
});

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Distinct pseudo-random bytes (a seed per test keeps the contents apart). */
function bytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function store(target: S3AttachmentStore, data: Buffer, chunk = 64 * 1024) {
  const upload = target.begin();
  for (let i = 0; i < data.length; i += chunk) await upload.write(data.subarray(i, i + chunk));
  return upload.commit(sha256(data));
}

async function keys(prefix: string): Promise<string[]> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key ?? '').sort();
}

async function usedAt(key: string): Promise<string | undefined> {
  const out = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  return out.Metadata?.[USED_AT_METADATA];
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

describe('S3AttachmentStore (s3rver)', () => {
  it('stores content once under attachments/<sha256>; a second commit adds nothing and refreshes its age', async () => {
    let now = new Date('2026-12-01T10:00:00.000Z');
    const attachments = new S3AttachmentStore({ client, bucket: BUCKET, now: () => now });
    const data = bytes(300_000, 1);
    const key = `attachments/${sha256(data)}`;
    expect(await store(attachments, data)).toEqual({ created: true, size: data.length });
    expect(await usedAt(key)).toBe('2026-12-01T10:00:00.000Z');
    now = new Date('2026-12-05T08:00:00.000Z');
    expect(await store(attachments, data)).toEqual({ created: false, size: data.length });
    expect(await keys('attachments/')).toEqual([key]);
    // copied onto itself with new metadata: on S3 that renews LastModified, which the lifecycle counts from
    expect(await usedAt(key)).toBe('2026-12-05T08:00:00.000Z');
    expect(await collect(attachments)).toEqual([
      { sha256: sha256(data), size: data.length, lastUsedAt: expect.any(String) },
    ]);
    const opened = await attachments.open(sha256(data));
    expect(opened && sha256(await readAll(opened))).toBe(sha256(data));
    expect(await attachments.has(sha256(data))).toBe(true);
    await attachments.delete(sha256(data));
    expect(await attachments.has(sha256(data))).toBe(false);
    expect(await attachments.open(sha256(data))).toBeNull();
  });

  it('streams a multi-part attachment (12 MiB in 5 MiB parts) and keeps the exact bytes', async () => {
    const attachments = new S3AttachmentStore({ client, bucket: BUCKET, prefix: 'big/' });
    const data = bytes(12 * MIB, 2);
    expect(await store(attachments, data, 256 * 1024)).toEqual({ created: true, size: data.length });
    const opened = await attachments.open(sha256(data));
    expect(opened && sha256(await readAll(opened))).toBe(sha256(data));
    expect(await keys('big/')).toEqual([`big/${sha256(data)}`]);
  });

  it('refuses a hash that is not the bytes’ and leaves nothing behind; abort leaves nothing either', async () => {
    const attachments = new S3AttachmentStore({ client, bucket: BUCKET, prefix: 'bad/' });
    const upload = attachments.begin();
    await upload.write(Buffer.from('hello'));
    const wrong = sha256(Buffer.from('other'));
    const err = await upload.commit(wrong).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3AttachmentStoreError);
    expect((err as S3AttachmentStoreError).retryable).toBe(false);
    const aborted = attachments.begin();
    await aborted.write(Buffer.from('never mind'));
    await aborted.abort();
    expect(await keys('bad/')).toEqual([]);
    await expect(attachments.has('../etc')).rejects.toThrow(/not a SHA-256/);
  });

  it('a missing bucket is an S3AttachmentStoreError, not retryable', async () => {
    const attachments = new S3AttachmentStore({ client, bucket: 'no-such-bucket' });
    const err = await attachments.open(sha256(Buffer.from('x'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3AttachmentStoreError);
    expect((err as S3AttachmentStoreError).retryable).toBe(false);
  });

  it('presigned URLs that s3rver serves: the exact bytes, the content type and a safe filename', async () => {
    const attachments = new S3AttachmentStore({ client, bucket: BUCKET, prefix: 'url/' });
    const data = bytes(40_000, 3);
    await store(attachments, data);
    const ports = s3AttachmentPorts({ client, store: attachments, expiresIn: 60 });
    const url = await ports.url({
      messageId: 'm1',
      index: 0,
      sha256: sha256(data),
      filename: '../../Rechnung "März".pdf',
      contentType: 'application/pdf',
    });
    expect(url).toMatch(/X-Amz-Expires=60/);
    const res = await fetch(url ?? '');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    const disposition = res.headers.get('content-disposition') ?? '';
    expect(disposition).toMatch(/^attachment; filename="Rechnung _M_rz_.pdf"; filename\*=UTF-8''/);
    expect(disposition).not.toContain('..');
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(data));
  });
});

async function collect(store: S3AttachmentStore) {
  const out: Array<{ sha256: string; size: number; lastUsedAt: string }> = [];
  for await (const entry of store.list()) out.push(entry);
  return out;
}
