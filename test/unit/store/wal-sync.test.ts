import * as fs from 'node:fs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, fdatasync: vi.fn(real.fdatasync), fdatasyncSync: vi.fn(real.fdatasyncSync) };
});

const { WalSync } = await import('../../../lib/store/wal-sync.ts');

describe('WalSync', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailroom-wal-sync-'));
    vi.mocked(fs.fdatasync).mockClear();
    vi.mocked(fs.fdatasyncSync).mockClear();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('syncs the file off the event loop; callers of one turn share a sync, those during a sync the next', async () => {
    const wal = join(dir, 'db-wal');
    writeFileSync(wal, 'frames');
    const sync = new WalSync(wal);
    await Promise.all([sync.wait(), sync.wait()]); // one turn: one sync, started at the next turn
    expect(fs.fdatasync).toHaveBeenCalledTimes(1);
    const running = sync.wait();
    await new Promise((resolve) => setImmediate(resolve)); // its sync has started
    const later = [sync.wait(), sync.wait(), sync.wait()]; // arrive while it runs: one more sync
    await Promise.all([running, ...later]);
    expect(fs.fdatasync).toHaveBeenCalledTimes(3);
    await sync.wait();
    expect(fs.fdatasync).toHaveBeenCalledTimes(4);
  });

  it('has nothing to sync without a WAL file (never written, or checkpointed away at close)', async () => {
    await expect(new WalSync(join(dir, 'missing-wal')).wait()).resolves.toBeUndefined();
    await expect(new WalSync(null).wait()).resolves.toBeUndefined();
    expect(fs.fdatasync).not.toHaveBeenCalled();
  });

  it('rejects the callers of a sync that failed', async () => {
    const sync = new WalSync(dir); // a directory cannot be opened for writing: EISDIR
    await expect(sync.wait()).rejects.toMatchObject({ code: 'EISDIR' });
  });

  it('syncs on the calling thread for the waiting callers when asked (before a close)', async () => {
    const wal = join(dir, 'db-wal');
    writeFileSync(wal, 'frames');
    const sync = new WalSync(wal);
    const running = sync.wait(); // taken by an asynchronous sync
    await new Promise((resolve) => setImmediate(resolve));
    const waiting = sync.wait(); // waits for the next one
    sync.syncNow();
    expect(fs.fdatasyncSync).toHaveBeenCalledTimes(1);
    await Promise.all([running, waiting]);
  });

  it('keeps the file open between syncs, and lets it go at close once a running sync has finished', async () => {
    const wal = join(dir, 'db-wal');
    writeFileSync(wal, 'frames');
    const sync = new WalSync(wal);
    await sync.wait();
    const running = sync.wait();
    await new Promise((resolve) => setImmediate(resolve)); // the sync has started
    sync.close();
    await running; // finished on its descriptor although close came first
    await expect(sync.wait()).resolves.toBeUndefined(); // closed: nothing more to sync
    expect(fs.fdatasync).toHaveBeenCalledTimes(2);
  });
});
