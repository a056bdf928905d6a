import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeAll } from '../../../lib/store/fs-durable.ts';
import { GroupCommitJournal, type JournalIo } from '../../../lib/store/group-commit-journal.ts';
import { decodeJournalRecords, encodeJournalRecord } from '../../../lib/store/journal-record.ts';

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
}

/**
 * A disk that fills up: while `full`, a write puts the first half of its bytes in the file (as a real
 * write that runs out of space part-way does), then fails with ENOSPC.
 */
function fillingDisk() {
  const state = { full: false, writes: 0 };
  const io: Partial<JournalIo> = {
    async write(file: FileHandle, chunks: Uint8Array[], total: number) {
      state.writes++;
      if (!state.full) return writeAll(file, chunks, total);
      const half = Buffer.concat(chunks).subarray(0, Math.floor(total / 2));
      if (half.length > 0) await writeAll(file, [half], half.length);
      throw enospc();
    },
  };
  return { state, io };
}

function record(id: string): Buffer {
  return encodeJournalRecord({ id, envelope: null, data: Buffer.from(`message ${id}\r\n`.repeat(20)) });
}

/** Ids of the intact records of every segment in `dir`, oldest segment first. */
async function replayed(dir: string): Promise<string[]> {
  const ids: string[] = [];
  for (const s of await GroupCommitJournal.segmentNumbers(dir)) {
    ids.push(...decodeJournalRecords(await GroupCommitJournal.readSegment(s.path)).records.map((r) => r.id));
  }
  return ids;
}

let dir: string;
beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'mailroom-journal-')), 'journal');
});
afterEach(async () => {
  await rm(join(dir, '..'), { recursive: true, force: true });
});

describe('GroupCommitJournal on a failing disk', () => {
  it('leaves no segment behind for batches that failed, however many fail', async () => {
    const disk = fillingDisk();
    const journal = new GroupCommitJournal<string>(dir, disk.io);
    await journal.open();
    disk.state.full = true;
    for (let i = 0; i < 200; i++) {
      await expect(journal.append(record(`f${i}`), `f${i}`)).rejects.toMatchObject({ code: 'ENOSPC' });
      expect((await readdir(dir)).length).toBeLessThanOrEqual(1);
    }
    // Concurrent appends fail together too.
    const many = Array.from({ length: 100 }, (_, i) => journal.append(record(`c${i}`), `c${i}`));
    const results = await Promise.allSettled(many);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(await readdir(dir)).toEqual([]);
    expect(disk.state.writes).toBeGreaterThanOrEqual(201);

    disk.state.full = false;
    await journal.append(record('ok'), 'ok');
    expect(await readdir(dir)).toHaveLength(1);
    expect(await replayed(dir)).toEqual(['ok']);
    expect(await journal.rotate()).toMatchObject({ tags: ['ok'] });
    await journal.close();
  });

  it('cuts a partly written batch out of a segment that holds acknowledged records', async () => {
    const disk = fillingDisk();
    const journal = new GroupCommitJournal<string>(dir, disk.io);
    await journal.open();
    await journal.append(record('before'), 'before');
    disk.state.full = true;
    await expect(journal.append(record('refused'), 'refused')).rejects.toMatchObject({ code: 'ENOSPC' });
    disk.state.full = false;
    await journal.append(record('after'), 'after');
    // What a restart would replay: only what was acknowledged, not the half-written batch.
    expect(await replayed(dir)).toEqual(['before', 'after']);
    const rotated = await journal.rotate();
    expect(rotated.tags).toEqual(['before', 'after']);
    await journal.remove(rotated.seqs);
    expect(await readdir(dir)).toEqual([]);
    await journal.close();
  });

  it('rejects a batch whose flush fails, and the batch written while it was flushing, and cuts both out', async () => {
    let releaseFlush!: (err: Error) => void;
    let failNext = false;
    let written = 0;
    const writeWaiters: Array<{ count: number; wake: () => void }> = [];
    const writes = (count: number) =>
      new Promise<void>((wake) => (written >= count ? wake() : writeWaiters.push({ count, wake })));
    const io: Partial<JournalIo> = {
      async write(file, chunks, total) {
        const n = await writeAll(file, chunks, total);
        written++;
        for (const w of writeWaiters.filter((x) => x.count <= written)) w.wake();
        return n;
      },
      datasync(file) {
        if (!failNext) return file.datasync();
        failNext = false;
        return new Promise<void>((_, reject) => {
          releaseFlush = reject;
        });
      },
    };
    const journal = new GroupCommitJournal<string>(dir, io);
    await journal.open();
    await journal.append(record('kept'), 'kept');
    failNext = true;
    const first = journal.append(record('flush-failed'), 'flush-failed');
    first.catch(() => undefined);
    await writes(2);
    // Written while the first one's flush is still running; its own flush succeeds.
    const second = journal.append(record('written-after'), 'written-after');
    second.catch(() => undefined);
    await writes(3);
    releaseFlush(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await expect(first).rejects.toMatchObject({ code: 'EIO' });
    await expect(second).rejects.toMatchObject({ code: 'EIO' });
    expect(await replayed(dir)).toEqual(['kept']);
    await journal.append(record('next'), 'next');
    expect(await replayed(dir)).toEqual(['kept', 'next']);
    expect((await journal.rotate()).tags).toEqual(['kept', 'next']);
    await journal.close();
  });
});
