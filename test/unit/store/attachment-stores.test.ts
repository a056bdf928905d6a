import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AttachmentStore,
  LocalAttachmentStore,
  MemoryAttachmentStore,
} from '../../../lib/store/index.ts';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function readAll(stream: Readable | null): Promise<Buffer | null> {
  if (!stream) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function put(store: AttachmentStore, ...chunks: string[]) {
  const bytes = Buffer.from(chunks.join(''));
  const upload = store.begin();
  for (const chunk of chunks) await upload.write(Buffer.from(chunk));
  return { sha: sha256(bytes), bytes, result: await upload.commit(sha256(bytes)) };
}

async function listAll(store: AttachmentStore) {
  const out = [];
  for await (const item of store.list()) out.push(item);
  return out;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-attstore-'));
  dirs.push(dir);
  return dir;
}

const stores: Array<[string, (now: () => Date) => AttachmentStore]> = [
  ['LocalAttachmentStore', (now) => new LocalAttachmentStore(tempDir(), { now })],
  ['MemoryAttachmentStore', (now) => new MemoryAttachmentStore({ now })],
];

describe.each(stores)('%s', (_name, make) => {
  let clock = Date.parse('2026-12-01T10:00:00Z');
  const now = () => new Date(clock);

  it('stores chunks under their hash and streams them back', async () => {
    const store = make(now);
    const { sha, bytes, result } = await put(store, 'hello ', 'attachment');
    expect(result).toEqual({ created: true, size: bytes.length });
    expect(await store.has(sha)).toBe(true);
    expect(await readAll(await store.open(sha))).toEqual(bytes);
    expect(await store.open('0'.repeat(64))).toBeNull();
  });

  it('keeps content once: a second commit creates nothing and marks it used now', async () => {
    const store = make(now);
    clock = Date.parse('2026-12-01T10:00:00Z');
    const first = await put(store, 'same bytes');
    clock = Date.parse('2026-12-05T10:00:00Z');
    const second = await put(store, 'same ', 'bytes');
    expect(second.result).toEqual({ created: false, size: first.bytes.length });
    expect(await listAll(store)).toEqual([
      { sha256: first.sha, size: first.bytes.length, lastUsedAt: '2026-12-05T10:00:00.000Z' },
    ]);
  });

  it('refuses a commit whose hash is not the hash of the bytes, and keeps nothing', async () => {
    const store = make(now);
    const upload = store.begin();
    await upload.write(Buffer.from('abc'));
    await expect(upload.commit('f'.repeat(64))).rejects.toThrow(/hash to [0-9a-f]{64}, not f{64}/);
    expect(await listAll(store)).toEqual([]);
  });

  it('drops an aborted upload, and refuses writes after it', async () => {
    const store = make(now);
    const upload = store.begin();
    await upload.write(Buffer.from('abc'));
    await upload.abort();
    await upload.abort(); // never throws
    await expect(upload.write(Buffer.from('more'))).rejects.toThrow(/after commit or abort/);
    expect(await listAll(store)).toEqual([]);
  });

  it('deletes content (retention)', async () => {
    const store = make(now);
    const { sha } = await put(store, 'to delete');
    await store.delete(sha);
    await store.delete(sha); // already gone: fine
    expect(await store.has(sha)).toBe(false);
    expect(await listAll(store)).toEqual([]);
  });
});

describe('LocalAttachmentStore on disk', () => {
  it('writes <dataDir>/attachments/<aa>/<sha256> and leaves no temp file', async () => {
    const dir = tempDir();
    const store = new LocalAttachmentStore(dir);
    const { sha, bytes } = await put(store, 'on disk');
    expect(statSync(join(dir, 'attachments', sha.slice(0, 2), sha)).size).toBe(bytes.length);
    expect(readdirSync(join(dir, 'attachments'))).toEqual([sha.slice(0, 2)]);
  });

  it('removes the temp file a crash left mid-write when it is opened again', async () => {
    const dir = tempDir();
    await new LocalAttachmentStore(dir).ready();
    // What a process killed mid-write leaves: a temp upload of a pid that is gone.
    const crashed = join(dir, 'attachments', 'upload.999999999-1');
    writeFileSync(crashed, 'half an attachment');
    const reopened = new LocalAttachmentStore(dir);
    await reopened.ready();
    expect(readdirSync(join(dir, 'attachments'))).toEqual([]);
    expect(await listAll(reopened)).toEqual([]);
  });

  it('writes nothing and lists nothing for names that are not hashes', async () => {
    const dir = tempDir();
    const store = new LocalAttachmentStore(dir);
    await put(store, 'x');
    writeFileSync(join(dir, 'attachments', 'notes.txt'), 'not an attachment');
    expect((await listAll(store)).map((a) => a.sha256)).toEqual([sha256(Buffer.from('x'))]);
    expect(await store.open('../../etc/passwd')).toBeNull();
    expect(await store.has('../x')).toBe(false);
  });
});
