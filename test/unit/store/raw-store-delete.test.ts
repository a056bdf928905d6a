import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalRawStore } from '../../../lib/store/local-raw-store.ts';
import { MemoryRawStore } from '../../../lib/store/memory-raw-store.ts';

const envelope = { mailFrom: 'a@example.net', rcptTo: ['support@example.com'] };

describe('LocalRawStore.delete', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailroom-raw-delete-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('removes the bytes and the envelope sidecar of a message written directly, once', async () => {
    const store = new LocalRawStore(dir, { journalMaxMessageBytes: 0 });
    try {
      await store.put('big', Buffer.from('x'.repeat(5000)), { envelope });
      await store.put('other', Buffer.from('keep'), { envelope });
      expect((await readdir(join(dir, 'raw'))).sort()).toEqual([
        'big.eml',
        'big.envelope.json',
        'other.eml',
        'other.envelope.json',
      ]);
      const freed = await store.delete('big');
      expect(freed).toBeGreaterThan(5000); // bytes and sidecar
      expect((await readdir(join(dir, 'raw'))).sort()).toEqual(['other.eml', 'other.envelope.json']);
      await expect(store.get('big')).rejects.toMatchObject({ code: 'ENOENT' });
      expect(await store.list()).toEqual(['other']);
      expect(await store.delete('big')).toBe(0);
      expect(await store.delete('never-stored')).toBe(0);
      expect((await store.get('other')).toString()).toBe('keep');
    } finally {
      await store.close();
    }
  });

  it('removes a message still in the journal so that no restart brings it back', async () => {
    const store = new LocalRawStore(dir, { checkpointIntervalMs: 60_000 });
    await store.put('small', Buffer.from('hello'), { envelope });
    await store.put('stays', Buffer.from('world'), { envelope });
    expect(await store.delete('small')).toBe(5);
    expect((await store.list()).sort()).toEqual(['stays']);
    await expect(store.get('small')).rejects.toMatchObject({ code: 'ENOENT' });
    await store.close();
    const reopened = new LocalRawStore(dir);
    try {
      expect(await reopened.list()).toEqual(['stays']);
      expect((await reopened.get('stays')).toString()).toBe('world');
    } finally {
      await reopened.close();
    }
  });

  it('refuses an id that is not a file name', async () => {
    const store = new LocalRawStore(dir);
    try {
      await expect(store.delete('../escape')).rejects.toThrow(RangeError);
    } finally {
      await store.close();
    }
  });
});

describe('MemoryRawStore.delete', () => {
  it('removes bytes and envelope, returns the bytes freed, idempotent', async () => {
    const store = new MemoryRawStore();
    await store.put('m', Buffer.from('abc'), { envelope });
    expect(await store.delete('m')).toBe(3);
    expect(await store.delete('m')).toBe(0);
    expect(await store.list()).toEqual([]);
    expect(await store.getEnvelope('m')).toBeNull();
    await expect(store.get('m')).rejects.toThrow(/not found/);
  });
});
