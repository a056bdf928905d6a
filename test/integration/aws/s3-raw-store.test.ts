import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AuthVerdicts, uncheckedVerdicts } from '../../../lib/auth/verdicts.ts';
import { META_INLINE_MAX } from '../../../lib/aws/s3-raw-meta.ts';
import { S3RawStore, type S3RawStoreOptions } from '../../../lib/aws/s3-raw-store.ts';
import { S3RawStoreError } from '../../../lib/aws/store-errors.ts';
import type { Envelope } from '../../../lib/kernel/index.ts';
import { newMessageId } from '../../../lib/store/message-id.ts';
import { type S3rverHandle, s3ClientFor, startS3rver } from '../../support/aws-emulators.ts';

const BUCKET = 'raw-mail';
const MIB = 1024 * 1024;
const NOW = new Date('2026-11-28T12:34:56.789Z');

const envelope: Envelope = {
  mailFrom: 'alice@sender.test',
  rcptTo: ['support@example.com', 'bob@example.com'],
  remoteAddress: '192.0.2.10',
  helo: 'mx.sender.test',
};

const verdicts: AuthVerdicts = {
  ...uncheckedVerdicts('test verdicts'),
  spf: {
    result: 'pass',
    scope: 'mailfrom',
    domain: 'sender.test',
    mailFrom: 'alice@sender.test',
    helo: 'mx.sender.test',
    clientIp: '192.0.2.10',
    record: 'v=spf1 ip4:192.0.2.0/24 -all',
  },
};

let s3: S3rverHandle;
let client: S3Client;
const clients: S3Client[] = [];

beforeAll(async () => {
  s3 = await startS3rver({ buckets: [BUCKET] });
  client = s3ClientFor(s3.endpoint);
  clients.push(client);
});

afterAll(async () => {
  for (const c of clients) c.destroy();
  await s3?.close();
});

interface Call {
  command: string;
  input: Record<string, unknown>;
}

/** Every command sent through `c`, with its input, in order (the real requests still go to s3rver). */
function recordCommands(c: S3Client, onCall?: (call: Call) => void): Call[] {
  const calls: Call[] = [];
  c.middlewareStack.add(
    (next, context) => async (args) => {
      const call = { command: String(context.commandName), input: args.input as Record<string, unknown> };
      calls.push(call);
      onCall?.(call);
      return next(args);
    },
    { step: 'initialize', name: `recordCommands${clients.length}` },
  );
  return calls;
}

/** A store with its own client (so commands can be recorded per test), under a prefix of its own. */
function newStore(options: Partial<S3RawStoreOptions> = {}, onCall?: (call: Call) => void) {
  const c = s3ClientFor(s3.endpoint);
  clients.push(c);
  const calls = recordCommands(c, onCall);
  const prefix = `t${clients.length}/`;
  const store = new S3RawStore({ client: c, bucket: BUCKET, prefix, now: () => NOW, ...options });
  return { store, calls, prefix };
}

async function keysUnder(prefix: string): Promise<string[]> {
  const out = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

async function* chunksOf(data: Buffer, size: number, onYield?: (total: number) => void) {
  let total = 0;
  for (let i = 0; i < data.length; i += size) {
    const chunk = data.subarray(i, i + size);
    total += chunk.length;
    onYield?.(total);
    yield chunk;
  }
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

const message = Buffer.from(
  'Received: from mx.sender.test\r\nFrom: Alice <alice@sender.test>\r\nTo: support@example.com\r\n' +
    'Subject: Hello\r\n\r\nHi there.\r\n',
);

describe('S3RawStore put/get (s3rver)', () => {
  it('round-trips a small message with its envelope and verdicts inline, in one PutObject', async () => {
    const { store, calls, prefix } = newStore();
    const id = newMessageId();
    await expect(store.put(id, message, { envelope, auth: verdicts })).resolves.toEqual({
      size: message.length,
    });
    expect((await store.get(id)).equals(message)).toBe(true);
    expect(await store.getEnvelope(id)).toEqual(envelope);
    expect(await store.getMeta(id)).toEqual({ envelope, auth: verdicts, receivedAt: NOW.toISOString() });
    expect(calls.map((c) => c.command)).toEqual([
      'PutObjectCommand',
      'GetObjectCommand',
      'HeadObjectCommand',
      'HeadObjectCommand',
    ]);
    // No sidecar: one object, `message/rfc822`, metadata in `x-amz-meta-mailroom-meta`.
    expect(await keysUnder(prefix)).toEqual([`${prefix}${id}.eml`]);
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${prefix}${id}.eml` }));
    expect(head.ContentType).toBe('message/rfc822');
    const inline = head.Metadata?.['mailroom-meta'];
    expect(inline).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(JSON.parse(Buffer.from(inline!, 'base64url').toString('utf8'))).toEqual({
      v: 1,
      envelope,
      auth: verdicts,
      receivedAt: NOW.toISOString(),
    });
    // The processor reads bytes and metadata in one GET.
    const both = await store.getWithMeta(id);
    expect(both.data.equals(message)).toBe(true);
    expect(both.meta).toEqual({ envelope, auth: verdicts, receivedAt: NOW.toISOString() });
  });

  it('stores a streamed message below the threshold with one PutObject; auth is optional', async () => {
    const { store, calls } = newStore({ multipartThreshold: 64 * 1024 });
    const id = newMessageId();
    const body = Buffer.alloc(50_000, 'x');
    const { size } = await store.put(id, chunksOf(body, 1000), { envelope });
    expect(size).toBe(body.length);
    expect(calls.map((c) => c.command)).toEqual(['PutObjectCommand']);
    expect(calls[0]!.input.ServerSideEncryption).toBeUndefined(); // the bucket's default applies
    expect((await store.get(id)).equals(body)).toBe(true);
    expect(await store.getMeta(id)).toEqual({ envelope, auth: null, receivedAt: NOW.toISOString() });
  });

  it('streams a message over the threshold as a multipart upload without reading it all first', async () => {
    let yielded = 0;
    const yieldedAtPart = new Map<number, number>();
    const { store, calls } = newStore(
      { multipartThreshold: 5 * MIB, partSize: 5 * MIB, queueSize: 2 },
      (call) => {
        if (call.command === 'UploadPartCommand') yieldedAtPart.set(call.input.PartNumber as number, yielded);
      },
    );
    const id = newMessageId();
    const body = Buffer.alloc(12 * MIB);
    for (let i = 0; i < body.length; i += 4) body.writeUInt32LE((i * 2654435761) >>> 0, i);
    const { size } = await store.put(
      id,
      chunksOf(body, 64 * 1024, (n) => {
        yielded = n;
      }),
      { envelope, auth: verdicts },
    );
    expect(size).toBe(12 * MIB);
    expect(calls.map((c) => c.command)).toEqual([
      'CreateMultipartUploadCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'CompleteMultipartUploadCommand',
    ]);
    const parts = calls.filter((c) => c.command === 'UploadPartCommand').map((c) => c.input.PartNumber);
    expect([...parts].sort()).toEqual([1, 2, 3]);
    // Streaming: when the first part went out, the message had not been read to its end.
    expect(yieldedAtPart.get(1)).toBeLessThan(12 * MIB);
    const create = calls[0]!.input;
    expect(create.ContentType).toBe('message/rfc822');
    expect(create.Metadata).toEqual({ 'mailroom-meta': expect.stringMatching(/^[A-Za-z0-9_-]+$/) });
    const stored = await store.get(id);
    expect(stored.length).toBe(body.length);
    expect(sha256(stored)).toBe(sha256(body));
    expect(await store.getMeta(id)).toEqual({ envelope, auth: verdicts, receivedAt: NOW.toISOString() });
    // Streamed reads for big objects.
    const stream = await store.getObjectStream(store.keyFor(id));
    const hash = createHash('sha256');
    for await (const chunk of stream) hash.update(chunk as Buffer);
    expect(hash.digest('hex')).toBe(sha256(body));
  });

  it('keeps metadata too big for S3 user metadata in a sidecar written before the .eml', async () => {
    const { store, calls, prefix } = newStore();
    const id = newMessageId();
    const many: Envelope = {
      ...envelope,
      rcptTo: Array.from({ length: 100 }, (_, i) => `recipient-number-${i}@example.com`),
    };
    await store.put(id, message, { envelope: many, auth: verdicts });
    expect(calls.map((c) => [c.command, c.input.Key])).toEqual([
      ['PutObjectCommand', `${prefix}${id}.meta.json`],
      ['PutObjectCommand', `${prefix}${id}.eml`],
    ]);
    expect(await keysUnder(prefix)).toEqual([`${prefix}${id}.eml`, `${prefix}${id}.meta.json`]);
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${prefix}${id}.eml` }));
    expect(head.Metadata).toEqual({ 'mailroom-meta': 'sidecar' });
    const sidecar = await client.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: `${prefix}${id}.meta.json` }),
    );
    expect(sidecar.ContentType).toBe('application/json');
    expect(JSON.parse(await sidecar.Body!.transformToString())).toMatchObject({ v: 1, envelope: many });
    expect(await store.getMeta(id)).toEqual({
      envelope: many,
      auth: verdicts,
      receivedAt: NOW.toISOString(),
    });
    expect(await store.getEnvelope(id)).toEqual(many);
    expect((await store.getWithMeta(id)).meta?.envelope).toEqual(many);
    // Only .eml keys are messages.
    expect(await store.list()).toEqual([id]);
  });

  it('goes to a sidecar exactly when the encoded metadata passes the inline limit', async () => {
    const { store, prefix } = newStore();
    // One recipient, grown until the encoded JSON crosses META_INLINE_MAX: the last size that fits and the
    // first that does not.
    const envelopeWith = (extra: number): Envelope => ({
      mailFrom: 'a@b.test',
      rcptTo: [`${'r'.repeat(extra)}@example.com`],
    });
    const encodedLength = (env: Envelope) =>
      Buffer.from(
        JSON.stringify({ v: 1, envelope: env, auth: null, receivedAt: NOW.toISOString() }),
      ).toString('base64url').length;
    let edge = 0;
    while (encodedLength(envelopeWith(edge + 1)) <= META_INLINE_MAX) edge++;
    const sizes: Array<{ inline: boolean; encoded: number }> = [];
    for (const extra of [0, edge, edge + 1, edge + 200]) {
      const id = newMessageId();
      const env = envelopeWith(extra);
      await store.put(id, message, { envelope: env });
      const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${prefix}${id}.eml` }));
      sizes.push({ inline: head.Metadata?.['mailroom-meta'] !== 'sidecar', encoded: encodedLength(env) });
      expect((await store.getMeta(id))?.envelope).toEqual(env);
    }
    expect(sizes.map((s) => s.inline)).toEqual([true, true, false, false]);
    for (const s of sizes) expect(s.inline).toBe(s.encoded <= META_INLINE_MAX);
  });

  it('asks for server-side encryption only when configured', async () => {
    const { store, calls } = newStore({ serverSideEncryption: 'AES256' });
    const many: Envelope = { ...envelope, rcptTo: Array.from({ length: 80 }, (_, i) => `r${i}@example.com`) };
    await store.put(newMessageId(), message, { envelope: many });
    expect(calls.map((c) => c.input.ServerSideEncryption)).toEqual(['AES256', 'AES256']);
    expect(() => new S3RawStore({ client, bucket: BUCKET, sseKmsKeyId: 'k' })).toThrow(RangeError);
  });

  it('stores no metadata for a message put without an envelope', async () => {
    const { store } = newStore();
    const id = newMessageId();
    await store.put(id, message);
    expect(await store.getMeta(id)).toBeNull();
    expect(await store.getEnvelope(id)).toBeNull();
  });

  it('reads arbitrary keys of the bucket (SES writes ses/<messageId>)', async () => {
    const { store } = newStore();
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'ses/abcdef0123', Body: message }));
    expect((await store.getObject('ses/abcdef0123')).equals(message)).toBe(true);
    const chunks: Buffer[] = [];
    for await (const chunk of await store.getObjectStream('ses/abcdef0123')) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(message)).toBe(true);
  });
});

describe('S3RawStore list (s3rver)', () => {
  it('lists the ids of .eml objects under its prefix only', async () => {
    const { store, prefix } = newStore();
    const ids = [newMessageId(), newMessageId(), newMessageId()];
    for (const id of ids) await store.put(id, message, { envelope });
    // Not messages of this store: another prefix, a deeper key, other suffixes.
    for (const key of [`other/${newMessageId()}.eml`, `${prefix}sub/x.eml`, `${prefix}notes.txt`]) {
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' }));
    }
    expect((await store.list()).sort()).toEqual([...ids].sort());
    expect(store.idFromKey(`${prefix}${ids[0]}.eml`)).toBe(ids[0]);
    expect(store.idFromKey(`${prefix}sub/x.eml`)).toBeNull();
    expect(store.idFromKey(`${prefix}${ids[0]}.meta.json`)).toBeNull();
  });

  it('pages through ListObjectsV2 with continuation tokens', async () => {
    // s3rver makes its continuation tokens with DES, which OpenSSL 3 only has in its legacy provider:
    // this test runs its own s3rver process with that provider on.
    const legacy = await startLegacyS3rver();
    const c = s3ClientFor(legacy.endpoint);
    clients.push(c);
    const calls = recordCommands(c);
    try {
      const store = new S3RawStore({ client: c, bucket: BUCKET, listPageSize: 2 });
      const ids = Array.from({ length: 5 }, () => newMessageId());
      for (const id of ids) await store.put(id, message, { envelope });
      const many: Envelope = {
        ...envelope,
        rcptTo: Array.from({ length: 90 }, (_, i) => `r${i}@example.com`),
      };
      const withSidecar = newMessageId();
      await store.put(withSidecar, message, { envelope: many });
      calls.length = 0;
      expect((await store.list()).sort()).toEqual([...ids, withSidecar].sort());
      const lists = calls.filter((call) => call.command === 'ListObjectsV2Command');
      expect(lists).toHaveLength(4); // 7 keys (6 messages, 1 sidecar), 2 per page
      expect(lists[0]!.input.ContinuationToken).toBeUndefined();
      for (const call of lists.slice(1)) expect(call.input.ContinuationToken).toEqual(expect.any(String));
    } finally {
      await legacy.close();
    }
  });
});

describe('S3RawStore failures (s3rver)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const f of cleanups.splice(0)) await f();
  });

  it('rejects with S3RawStoreError when the bucket does not exist', async () => {
    const store = new S3RawStore({ client, bucket: 'no-such-bucket' });
    const id = newMessageId();
    const err = await store.put(id, message, { envelope }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3RawStoreError);
    expect((err as S3RawStoreError).name).toBe('S3RawStoreError');
    expect((err as S3RawStoreError).message).toMatch(/NoSuchBucket/);
    expect((err as S3RawStoreError).cause).toMatchObject({ name: 'NoSuchBucket' });
    expect((err as S3RawStoreError).notFound).toBe(false);
    // a missing bucket stays missing: trying again cannot help
    expect((err as S3RawStoreError).retryable).toBe(false);
    // Streamed, over the threshold: the multipart upload fails the same way.
    const big = new S3RawStore({ client, bucket: 'no-such-bucket', multipartThreshold: 1024 });
    const streamed = await big
      .put(id, chunksOf(Buffer.alloc(6 * MIB), 256 * 1024), { envelope })
      .catch((e: unknown) => e);
    expect(streamed).toBeInstanceOf(S3RawStoreError);
    await expect(store.get(id)).rejects.toBeInstanceOf(S3RawStoreError);
    await expect(store.list()).rejects.toBeInstanceOf(S3RawStoreError);
  });

  it('says notFound for an unknown id; getMeta and getEnvelope give null', async () => {
    const { store } = newStore();
    const id = newMessageId();
    const err = await store.get(id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3RawStoreError);
    expect((err as S3RawStoreError).notFound).toBe(true);
    expect(await store.getMeta(id)).toBeNull();
    expect(await store.getEnvelope(id)).toBeNull();
    await expect(store.put('../escape', message)).rejects.toBeInstanceOf(RangeError);
  });

  it('rejects with S3RawStoreError when S3 cannot be reached', async () => {
    const down = await startS3rver({ buckets: [BUCKET] });
    const endpoint = down.endpoint;
    await down.close();
    const c = s3ClientFor(endpoint);
    clients.push(c);
    const store = new S3RawStore({ client: c, bucket: BUCKET });
    const err = await store.put(newMessageId(), message, { envelope }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3RawStoreError);
    expect((err as Error).cause).toBeDefined();
  });

  it('passes on an error of the data, aborts the multipart upload and leaves nothing (sidecar included)', async () => {
    const { store, calls, prefix } = newStore({ multipartThreshold: 1024, partSize: 5 * MIB });
    const id = newMessageId();
    const many: Envelope = { ...envelope, rcptTo: Array.from({ length: 90 }, (_, i) => `r${i}@example.com`) };
    const boom = new Error('client went away');
    async function* failing() {
      yield* chunksOf(Buffer.alloc(7 * MIB, 'a'), 256 * 1024);
      throw boom;
    }
    await expect(store.put(id, failing(), { envelope: many })).rejects.toBe(boom);
    const commands = calls.map((c) => c.command);
    expect(commands).toContain('CreateMultipartUploadCommand');
    expect(commands).toContain('AbortMultipartUploadCommand');
    expect(commands).not.toContain('CompleteMultipartUploadCommand');
    expect(await keysUnder(prefix)).toEqual([]);
    expect(await store.list()).toEqual([]);
  });

  it('gives up when the signal is aborted while waiting for data, leaving nothing', async () => {
    const { store, prefix } = newStore();
    const controller = new AbortController();
    const reason = new Error('message too big');
    async function* stalled() {
      yield Buffer.from('Subject: x\r\n\r\n');
      await new Promise(() => {}); // the client stops sending
    }
    const put = store.put(newMessageId(), stalled(), { envelope, signal: controller.signal });
    setTimeout(() => controller.abort(reason), 50);
    await expect(put).rejects.toBe(reason);
    expect(await keysUnder(prefix)).toEqual([]);
  });

  it('gives up a multipart upload when the signal is aborted while the source is stalled', async () => {
    const { store, calls, prefix } = newStore({ multipartThreshold: 1024, partSize: 5 * MIB });
    const controller = new AbortController();
    const reason = new Error('timed out storing the message');
    async function* stalled() {
      yield* chunksOf(Buffer.alloc(6 * MIB, 'b'), 256 * 1024);
      await new Promise(() => {}); // the client stops sending after 6 MiB
    }
    const put = store.put(newMessageId(), stalled(), { envelope, signal: controller.signal });
    // Abort once the first part is on its way (the upload has really started).
    await new Promise<void>((resolve) => {
      const check = () =>
        calls.some((c) => c.command === 'UploadPartCommand') ? resolve() : setTimeout(check, 10);
      check();
    });
    controller.abort(reason);
    await expect(put).rejects.toBe(reason);
    const commands = calls.map((c) => c.command);
    expect(commands).toContain('AbortMultipartUploadCommand');
    expect(commands).not.toContain('CompleteMultipartUploadCommand');
    expect(await keysUnder(prefix)).toEqual([]);
  });

  it('takes the object back when the signal is aborted after S3 confirmed it', async () => {
    const { store, prefix } = newStore();
    const c = s3ClientFor(s3.endpoint);
    clients.push(c);
    const controller = new AbortController();
    const reason = new Error('timed out');
    // Abort as soon as the PutObject of the .eml has completed.
    const aborting = new S3RawStore({ client: c, bucket: BUCKET, prefix });
    c.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        if (String((args.input as { Key?: string }).Key).endsWith('.eml')) controller.abort(reason);
        return out;
      },
      { step: 'initialize', name: 'abortAfterPut' },
    );
    const id = newMessageId();
    await expect(aborting.put(id, message, { envelope, signal: controller.signal })).rejects.toBe(reason);
    expect(await keysUnder(prefix)).toEqual([]);
    expect(await store.list()).toEqual([]);
  });

  it('refuses bad options', () => {
    expect(() => new S3RawStore({ client, bucket: BUCKET, partSize: 4 * MIB })).toThrow(/partSize/);
    expect(() => new S3RawStore({ client, bucket: BUCKET, queueSize: 0 })).toThrow(/queueSize/);
    expect(() => new S3RawStore({ client, bucket: '' })).toThrow(/bucket/);
    expect(() => new S3RawStore({ client, bucket: BUCKET, listPageSize: 1001 })).toThrow(/listPageSize/);
  });

  it('refuses metadata that is not what Mailroom wrote', async () => {
    const { store, prefix } = newStore();
    const id = newMessageId();
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `${prefix}${id}.eml`,
        Body: message,
        Metadata: { 'mailroom-meta': Buffer.from('{"v":1,"envelope":{}}').toString('base64url') },
      }),
    );
    const err = await store.getMeta(id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3RawStoreError);
    expect((err as Error).message).toMatch(/unexpected metadata \(envelope\.mailFrom/);
    // A sidecar that is missing.
    const orphan = newMessageId();
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `${prefix}${orphan}.eml`,
        Body: message,
        Metadata: { 'mailroom-meta': 'sidecar' },
      }),
    );
    await expect(store.getMeta(orphan)).rejects.toMatchObject({ name: 'S3RawStoreError', notFound: true });
  });
});

/** s3rver in a child process with OpenSSL's legacy provider (for its DES continuation tokens). */
async function startLegacyS3rver(): Promise<{ endpoint: string; close(): Promise<void> }> {
  const directory = await mkdtemp(join(tmpdir(), 'mailroom-s3rver-legacy-'));
  const bin = createRequire(import.meta.url).resolve('s3rver/bin/s3rver.js');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--openssl-legacy-provider',
      bin,
      '-d',
      directory,
      '-a',
      '127.0.0.1',
      '-p',
      '0',
      '--configure-bucket',
      BUCKET,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start:\n${out}`)), 15_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = out.match(/S3rver listening on [^:]+:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => reject(new Error(`s3rver exited:\n${out}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async close() {
      child.kill('SIGTERM');
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
