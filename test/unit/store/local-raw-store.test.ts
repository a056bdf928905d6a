import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalRawStore } from '../../../lib/store/local-raw-store.ts';
import { MESSAGE_ID_PATTERN, newMessageId } from '../../../lib/store/message-id.ts';
import { newThreadsAt, threadNiceValues, threadPrioritiesVisible } from '../../support/thread-priority.ts';

let dir: string;
let store: LocalRawStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailroom-raw-'));
  store = new LocalRawStore(dir);
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function* chunks(...parts: (string | Error)[]): AsyncGenerator<Buffer> {
  for (const part of parts) {
    if (part instanceof Error) throw part;
    yield Buffer.from(part);
  }
}

describe('LocalRawStore', () => {
  it('stores a Buffer and a stream under raw/<id>.eml and reads them back', async () => {
    expect(await store.put('a1', Buffer.from('hello\r\n'))).toEqual({ size: 7 });
    expect(await store.put('b2', chunks('one ', '', 'two ', 'three'))).toEqual({ size: 13 });
    expect((await store.get('a1')).toString()).toBe('hello\r\n');
    expect((await store.get('b2')).toString()).toBe('one two three');
    await store.checkpoint();
    expect(await readFile(join(dir, 'raw', 'b2.eml'), 'utf8')).toBe('one two three');
    expect((await store.list()).sort()).toEqual(['a1', 'b2']);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('writes big streams in several writes, byte-exact', async () => {
    const store2 = new LocalRawStore(dir, { writeBufferBytes: 1000 });
    const parts = Array.from({ length: 300 }, (_, i) => `${i}:${'x'.repeat(i)}\n`);
    await store2.put('big', chunks(...parts));
    expect((await store2.get('big')).toString()).toBe(parts.join(''));
    await store2.close();
  });

  it('lists nothing for a new store and rejects get() of an unknown id with ENOENT', async () => {
    expect(await store.list()).toEqual([]);
    await expect(store.get('nope')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('leaves tmp/ clean and stores nothing when the stream fails', async () => {
    await expect(store.put('bad', chunks('partial ', new Error('client went away')))).rejects.toThrow(
      'client went away',
    );
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    expect(await store.list()).toEqual([]);
  });

  it('rejects when the directory cannot be used, leaving nothing behind', async () => {
    const blocked = join(dir, 'blocked');
    await writeFile(blocked, 'a file where the store directory should be');
    const bad = new LocalRawStore(blocked);
    await expect(bad.put('x', Buffer.from('y'))).rejects.toThrow();
    // A failing rename on the direct path: raw/ vanished after the store was set up.
    const direct = new LocalRawStore(dir, { journalMaxMessageBytes: 0 });
    await direct.put('first', Buffer.from('1'));
    await rm(join(dir, 'raw'), { recursive: true });
    await expect(direct.put('second', Buffer.from('2'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('refuses ids that are not safe file names', async () => {
    for (const id of ['', '../x', 'a/b', '.hidden', 'a b', 'x'.repeat(201)]) {
      await expect(store.put(id, Buffer.from('x'))).rejects.toThrow(RangeError);
      await expect(store.get(id)).rejects.toThrow(RangeError);
    }
  });

  it('handles many concurrent puts (group-committed directory syncs)', async () => {
    const ids = Array.from({ length: 200 }, () => newMessageId());
    const results = await Promise.all(ids.map((id, i) => store.put(id, chunks(`message ${i}\r\n`))));
    expect(results.every((r, i) => r.size === `message ${i}\r\n`.length)).toBe(true);
    expect((await store.list()).sort()).toEqual([...ids].sort());
    expect((await store.get(ids[42]!)).toString()).toBe('message 42\r\n');
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
  });

  it('replaces the bytes when the same id is put again', async () => {
    await store.put('same', Buffer.from('old'));
    await store.put('same', Buffer.from('new'));
    expect((await store.get('same')).toString()).toBe('new');
    expect(await store.list()).toEqual(['same']);
  });
});

describe('LocalRawStore journal (group commit)', () => {
  it('acknowledges small messages from the journal, then writes them out as files with their envelopes', async () => {
    const envelope = { mailFrom: 'a@example.net', rcptTo: ['support@example.com', 'bcc@example.com'] };
    await store.put('j1', Buffer.from('journaled\r\n'), { envelope });
    expect(await readdir(join(dir, 'journal'))).toHaveLength(1);
    expect((await store.get('j1')).toString()).toBe('journaled\r\n');
    expect(await store.getEnvelope('j1')).toEqual(envelope);
    expect(await store.list()).toEqual(['j1']);
    await store.checkpoint();
    expect(await readdir(join(dir, 'journal'))).toEqual([]);
    expect(await readFile(join(dir, 'raw', 'j1.eml'), 'utf8')).toBe('journaled\r\n');
    // Envelopes of a checkpoint go into one log file, not one file per message.
    expect(await readdir(join(dir, 'raw'))).toEqual(['j1.eml']);
    expect(await readdir(join(dir, 'envelopes'))).toHaveLength(1);
    expect(await store.getEnvelope('j1')).toEqual(envelope);
    expect(await new LocalRawStore(dir).getEnvelope('j1')).toEqual(envelope);
    expect(await store.getEnvelope('unknown')).toBeNull();
  });

  it('gives get() callers bytes of their own, also for a message still waiting in the journal', async () => {
    await store.put('j2', Buffer.from('journaled\r\n'));
    const got = await store.get('j2');
    got.fill(0x21); // the caller may reuse or hand its buffer on (a worker transfer empties it)
    expect((await store.get('j2')).toString()).toBe('journaled\r\n');
    await store.checkpoint();
    expect(await readFile(join(dir, 'raw', 'j2.eml'), 'utf8')).toBe('journaled\r\n');
  });

  it('starts a checkpoint at once when checkpointBytes are waiting, not at the interval', async () => {
    const own = new LocalRawStore(dir, { checkpointIntervalMs: 3_600_000, checkpointBytes: 1000 });
    try {
      await own.put('small', Buffer.from('x'.repeat(600)));
      // Under the threshold: the hour-long interval holds it in the journal.
      await new Promise((r) => setTimeout(r, 50));
      expect(await readdir(join(dir, 'raw'))).toEqual([]);
      await own.put('over', Buffer.from('y'.repeat(600))); // 1,200 bytes waiting
      await expect
        .poll(async () => (await readdir(join(dir, 'raw'))).sort(), { timeout: 20_000 })
        .toEqual(['over.eml', 'small.eml']);
      await expect.poll(async () => readdir(join(dir, 'journal')), { timeout: 20_000 }).toEqual([]);
    } finally {
      await own.close();
    }
  });

  it('replays journal segments left by a crash into files on the next start', async () => {
    const crashed = new LocalRawStore(dir, { checkpointIntervalMs: 60_000 });
    const ids = Array.from({ length: 50 }, () => newMessageId());
    await Promise.all(
      ids.map((id, i) =>
        crashed.put(id, chunks(`m${i}\r\n`), { envelope: { mailFrom: '', rcptTo: [`r${i}@x.test`] } }),
      ),
    );
    expect(await readdir(join(dir, 'raw'))).toEqual([]); // nothing written out yet: the "process" dies here
    const restarted = new LocalRawStore(dir);
    expect((await restarted.list()).sort()).toEqual([...ids].sort());
    expect(await readdir(join(dir, 'journal'))).toEqual([]);
    expect(await readFile(join(dir, 'raw', `${ids[7]}.eml`), 'utf8')).toBe('m7\r\n');
    expect(await restarted.getEnvelope(ids[7]!)).toEqual({ mailFrom: '', rcptTo: ['r7@x.test'] });
    await restarted.close();
  });

  it('ignores a torn record at the end of a segment (never acknowledged)', async () => {
    const crashed = new LocalRawStore(dir, { checkpointIntervalMs: 60_000 });
    await crashed.put('whole', Buffer.from('complete\r\n'));
    const [segment] = await readdir(join(dir, 'journal'));
    const { appendFile } = await import('node:fs/promises');
    await appendFile(join(dir, 'journal', segment!), Buffer.from('MRJ1\0\0\0\x40garbage'));
    const restarted = new LocalRawStore(dir);
    expect(await restarted.list()).toEqual(['whole']);
    await restarted.close();
  });

  it('streams a message bigger than the journal limit straight to its file', async () => {
    const small = new LocalRawStore(dir, { journalMaxMessageBytes: 16 });
    await small.put('big', chunks('0123456789', 'abcdefghij', 'KLMNOP'), {
      envelope: { mailFrom: 'a@b.c', rcptTo: ['d@e.f'] },
    });
    expect(await readdir(join(dir, 'journal'))).toEqual([]);
    expect(await readFile(join(dir, 'raw', 'big.eml'), 'utf8')).toBe('0123456789abcdefghijKLMNOP');
    expect(await small.getEnvelope('big')).toEqual({ mailFrom: 'a@b.c', rcptTo: ['d@e.f'] });
    await small.close();
  });
});

describe('LocalRawStore checkpoint thread', () => {
  // Writing journaled messages out as files can wait (they are durable in the journal): on a busy core the
  // SMTP thread's 250s come first.
  it.runIf(threadPrioritiesVisible)(
    'writes files out at nice 10 by default, at the process priority with null',
    async () => {
      const before = threadNiceValues();
      await store.put('a1', Buffer.from('hello\r\n'));
      await store.checkpoint();
      expect(await readFile(join(dir, 'raw', 'a1.eml'), 'utf8')).toBe('hello\r\n');
      expect(newThreadsAt(before, 10)).toHaveLength(1);

      const own = new LocalRawStore(await mkdtemp(join(tmpdir(), 'mailroom-raw-')), {
        checkpointThreadPriority: null,
      });
      try {
        const between = threadNiceValues();
        await own.put('b2', Buffer.from('hi\r\n'));
        await own.checkpoint();
        expect(await readFile(join(own.dir, 'raw', 'b2.eml'), 'utf8')).toBe('hi\r\n');
        expect(newThreadsAt(between, 10)).toEqual([]);
      } finally {
        await own.close();
        await rm(own.dir, { recursive: true, force: true });
      }
    },
  );
});

/** Pids of this process's children that run the checkpoint's syncfs loop (Linux /proc). */
function syncHelpers(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (ppid === process.pid && cmdline.includes('--file-system')) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

describe.runIf(process.platform === 'linux')('LocalRawStore checkpoint syncfs', () => {
  // Helpers of the stores of earlier tests end once their thread has gone.
  beforeEach(async () => {
    await expect.poll(() => syncHelpers(), { timeout: 20_000 }).toEqual([]);
  });

  it('syncs each checkpoint through one small helper shell, started once and gone after close()', async () => {
    await store.put('a1', Buffer.from('one\r\n'));
    await store.checkpoint();
    const helpers = syncHelpers();
    expect(helpers).toHaveLength(1);
    await store.put('a2', Buffer.from('two\r\n'));
    await store.checkpoint();
    expect(syncHelpers()).toEqual(helpers); // the same shell, not a new fork of this process
    expect(await readFile(join(dir, 'raw', 'a2.eml'), 'utf8')).toBe('two\r\n');
    await store.close();
    await expect.poll(() => syncHelpers(), { timeout: 20_000 }).toEqual([]);
  });

  it('falls back to an fdatasync per file where no sync is on PATH', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent'; // the checkpoint thread copies the environment when it starts
    const own = new LocalRawStore(await mkdtemp(join(tmpdir(), 'mailroom-raw-')));
    try {
      await own.put('b1', Buffer.from('hi\r\n'));
      await own.checkpoint();
      expect(await readFile(join(own.dir, 'raw', 'b1.eml'), 'utf8')).toBe('hi\r\n');
      expect(await readdir(join(own.dir, 'journal'))).toEqual([]);
      expect(syncHelpers()).toEqual([]);
    } finally {
      process.env.PATH = path;
      await own.close();
      await rm(own.dir, { recursive: true, force: true });
    }
  });
});

describe('newMessageId', () => {
  it('is 26 lowercase base32 characters, unique, sorting by time', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newMessageId()));
    expect(ids.size).toBe(10_000);
    for (const id of ids) expect(id).toMatch(MESSAGE_ID_PATTERN);
    const earlier = newMessageId(Date.UTC(2024, 0, 1));
    const later = newMessageId(Date.UTC(2024, 0, 1) + 1);
    expect(earlier < later).toBe(true);
    expect(newMessageId(Date.UTC(2030, 0, 1)) > newMessageId(Date.UTC(2029, 11, 31))).toBe(true);
    expect(newMessageId(0).slice(0, 10)).toBe('0000000000');
  });
});
