import { spawnSync } from 'node:child_process';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeAll } from '../../../lib/store/fs-durable.ts';
import { LocalRawStore } from '../../../lib/store/local-raw-store.ts';
import { STALE_TEMP_MS } from '../../../lib/store/temp-files.ts';

let dir: string;
const stores: LocalRawStore[] = [];
const open = (options: ConstructorParameters<typeof LocalRawStore>[1] = {}) => {
  const store = new LocalRawStore(dir, options);
  stores.push(store);
  return store;
};
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailroom-raw-faults-'));
});
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

/** A pid that belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  return child.pid!;
}

describe('LocalRawStore after a failed journal write', () => {
  it('never replays a message whose put() failed part-way, and replays the acknowledged one', async () => {
    let full = false;
    const crashed = open({
      checkpointIntervalMs: 60_000,
      journalIo: {
        async write(file: FileHandle, chunks: Uint8Array[], total: number) {
          if (!full) return writeAll(file, chunks, total);
          const part = Buffer.concat(chunks).subarray(0, total - 5); // all but the last bytes
          await writeAll(file, [part], part.length);
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        },
      },
    });
    await crashed.put('acked', Buffer.from('kept\r\n'), { envelope: { mailFrom: '', rcptTo: ['a@x.test'] } });
    full = true;
    await expect(crashed.put('refused', Buffer.from('answered 451\r\n'))).rejects.toMatchObject({
      code: 'ENOSPC',
    });
    expect(await crashed.list()).toEqual(['acked']);
    // The process dies without a checkpoint; the next start replays the journal.
    const restarted = open();
    expect(await restarted.list()).toEqual(['acked']);
    await expect(restarted.get('refused')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(join(dir, 'journal'))).toEqual([]);
  });

  it('removes the temp files of a checkpoint that failed', async () => {
    const store = open({ checkpointIntervalMs: 60_000 });
    await store.put('m1', Buffer.from('one\r\n'), { envelope: { mailFrom: '', rcptTo: ['a@x.test'] } });
    await rm(join(dir, 'raw'), { recursive: true }); // the renames into raw/ fail
    await expect(store.checkpoint()).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    await mkdir(join(dir, 'raw'));
    await store.checkpoint(); // the journal still holds it: written out now
    expect(await readdir(join(dir, 'raw'))).toEqual(['m1.eml']);
  });
});

describe('LocalRawStore temp files left by a crash', () => {
  it('deletes ours at start: this pid not in use, a dead pid, and any that are stale', async () => {
    const tmp = join(dir, 'tmp');
    await mkdir(tmp, { recursive: true });
    const dead = deadPid();
    const files = {
      previousRunSamePid: `a1.eml.${process.pid}-987654`,
      deadWriter: `a2.envelope.json.${dead}-4`,
      deadDirect: `a3.${dead}-5`,
      liveRecent: `a4.eml.${process.ppid}-6`,
      liveStale: `a5.eml.${process.ppid}-7`,
      notOurs: 'notes.txt',
    };
    for (const name of Object.values(files)) await writeFile(join(tmp, name), 'partial');
    await mkdir(join(tmp, `a6.${dead}-8`)); // not a file: left alone
    const old = new Date(Date.now() - STALE_TEMP_MS - 60_000);
    await utimes(join(tmp, files.liveStale), old, old);

    expect(await open().list()).toEqual([]);
    expect((await readdir(tmp)).sort()).toEqual([files.liveRecent, files.notOurs, `a6.${dead}-8`].sort());
  });

  it('keeps a temp file another store of this process is still writing', async () => {
    const writer = open({ journalMaxMessageBytes: 0 }); // straight to tmp/, then renamed
    let finish!: () => void;
    const held = new Promise<void>((r) => {
      finish = r;
    });
    let started!: () => void;
    const writing = new Promise<void>((r) => {
      started = r;
    });
    const put = writer.put(
      'slow',
      (async function* () {
        yield Buffer.from('first half, ');
        started();
        await held;
        yield Buffer.from('second half\r\n');
      })(),
    );
    await writing;
    expect(await readdir(join(dir, 'tmp'))).toHaveLength(1);
    expect(await open().list()).toEqual([]); // a second store starting in the same directory
    expect(await readdir(join(dir, 'tmp'))).toHaveLength(1);
    finish();
    await put;
    expect((await writer.get('slow')).toString()).toBe('first half, second half\r\n');
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });
});
