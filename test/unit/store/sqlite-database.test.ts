import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteDatabase } from '../../../lib/store/sqlite-database.ts';

const NORMAL = 1;
const FULL = 2;

describe('SqliteDatabase relaxed writes', () => {
  let dir: string;
  let db: SqliteDatabase;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailroom-sqlite-db-'));
    db = new SqliteDatabase(join(dir, 'mailroom.db'), 1000);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The `synchronous` level in force while a write runs (its batch commits with it). */
  const level = () => (db.stmt('PRAGMA synchronous').get() as { synchronous: number }).synchronous;

  it('commits a batch of relaxed writes only with synchronous=NORMAL, then goes back to FULL', async () => {
    const seen = await Promise.all([db.write(level, { relaxed: true }), db.write(level, { relaxed: true })]);
    expect(seen).toEqual([NORMAL, NORMAL]);
    expect(db.durability().synchronous).toBe('full');
  });

  it('commits a batch with any ordinary write in it with synchronous=FULL', async () => {
    const seen = await Promise.all([db.write(level, { relaxed: true }), db.write(level)]);
    expect(seen).toEqual([FULL, FULL]);
    expect(await db.write(level)).toBe(FULL);
  });

  it('goes back to FULL when a relaxed write fails', async () => {
    const failing = db.write(
      () => {
        throw new Error('no');
      },
      { relaxed: true },
    );
    await expect(failing).rejects.toThrow('no');
    expect(db.durability().synchronous).toBe('full');
  });
});
