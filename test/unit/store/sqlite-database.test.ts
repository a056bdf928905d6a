import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteDatabase } from '../../../lib/store/sqlite-database.ts';

/** A WAL sync the test finishes by hand. */
class ManualSync {
  waits = 0;
  syncedNow = 0;
  #pending: Array<{ resolve: () => void; reject: (err: unknown) => void }> = [];
  wait(): Promise<void> {
    this.waits++;
    return new Promise((resolve, reject) => this.#pending.push({ resolve, reject }));
  }
  close(): void {
    this.syncedNow++;
    this.finish();
  }
  finish(err?: Error): void {
    for (const p of this.#pending.splice(0)) {
      if (err) p.reject(err);
      else p.resolve();
    }
  }
}

/** Whether `promise` has settled after the pending I/O and immediates have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((r) => setTimeout(r, 20));
  return done;
}

describe('SqliteDatabase: a write resolves once the WAL is synced after its commit', () => {
  let dir: string;
  let db: SqliteDatabase;
  let sync: ManualSync;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailroom-sqlite-db-'));
    sync = new ManualSync();
    db = new SqliteDatabase(join(dir, 'mailroom.db'), 1000, sync);
    db.write(() => db.stmt('CREATE TABLE t (v TEXT)').run(), { relaxed: true });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const insert = (v: string) => () => db.stmt('INSERT INTO t (v) VALUES (?)').run(v).changes;
  const count = () => (db.read(() => db.stmt('SELECT count(*) AS n FROM t').get()) as { n: number }).n;

  it('commits without syncing inside the commit, and waits for one shared sync before resolving', async () => {
    expect(db.durability()).toEqual({
      journalMode: 'wal',
      synchronous: 'normal',
      walSyncedBeforeWriteResolves: true,
    });
    const a = db.write(insert('a'));
    const b = db.write(insert('b'));
    expect(await settled(Promise.race([a, b]))).toBe(false);
    expect(count()).toBe(2); // committed, visible to reads
    expect(sync.waits).toBe(1); // one sync for the batch
    sync.finish();
    expect(await Promise.all([a, b])).toEqual([1, 1]);
  });

  it('resolves a relaxed write at its commit, without waiting for a sync', async () => {
    const waitsBefore = sync.waits;
    expect(await db.write(insert('r'), { relaxed: true })).toBe(1);
    expect(sync.waits).toBe(waitsBefore);
  });

  it('rejects a write whose sync failed, and a failing write at once', async () => {
    const durable = db.write(insert('x'));
    const failing = db.write(() => {
      throw new Error('no');
    });
    await expect(failing).rejects.toThrow('no');
    sync.finish(new Error('EIO'));
    await expect(durable).rejects.toThrow('EIO');
  });

  it('syncs on this thread at close, so writes committed by close are durable when it returns', async () => {
    const w = db.write(insert('c'));
    db.close();
    expect(sync.syncedNow).toBe(1);
    expect(await w).toBe(1);
  });
});
