/**
 * The local store when the disk refuses writes. A real full disk cannot be made here (no loop devices), so
 * the journal's file operations are replaced through its seam (`journalIo`): writes put part of their bytes
 * on disk and then fail with ENOSPC, as a filling disk does. The message store is refused writes for real:
 * another connection holds SQLite's write lock, and the store fails at once (busy timeout 0).
 */
import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../lib/actions/builders.ts';
import { resolveConfig } from '../../../lib/config/resolve-config.ts';
import type { Logger } from '../../../lib/kernel/index.ts';
import { createPipeline, type Pipeline } from '../../../lib/pipeline/create-pipeline.ts';
import { writeAll } from '../../../lib/store/fs-durable.ts';
import type { JournalIo } from '../../../lib/store/group-commit-journal.ts';
import { LocalRawStore } from '../../../lib/store/local-raw-store.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';
import { waitFor } from '../../support/mailroom-process.ts';
import { RawSmtpClient, startTestIngress, type TestIngress } from '../smtp/helpers.ts';

const message = (n: number) =>
  `From: a@sender.test\r\nTo: support@example.com\r\nSubject: m${n}\r\n\r\nbody ${n}\r\n.\r\n`;

/** Journal writes that, while `full`, write all but the last bytes and then fail with ENOSPC. */
function fillingDisk() {
  const disk = { full: false };
  const io: Partial<JournalIo> = {
    async write(file: FileHandle, chunks: Uint8Array[], total: number) {
      if (!disk.full) return writeAll(file, chunks, total);
      const part = Buffer.concat(chunks).subarray(0, total - 3);
      await writeAll(file, [part], part.length);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    },
  };
  return { disk, io };
}

describe('SMTP ingress on a full disk', () => {
  let t: TestIngress;
  afterEach(async () => {
    await t.stop();
  });

  it('answers 451, leaves no journal file per refused message, and a restart replays only what got 250', async () => {
    const { disk, io } = fillingDisk();
    t = await startTestIngress({ store: { journalIo: io, checkpointIntervalMs: 60_000 } });
    const { client } = await RawSmtpClient.open(t.port);
    expect((await client.send('a@sender.test', ['support@example.com'], message(0))).code).toBe(250);

    disk.full = true;
    for (let n = 1; n <= 100; n++) {
      const reply = await client.send('a@sender.test', ['support@example.com'], message(n));
      expect(reply.code).toBe(451);
      expect(reply.text).toContain('4.3.0');
    }
    // One segment (the 250'd message's, the refused bytes cut back out of it), not one per failure.
    expect(await readdir(join(t.dir, 'journal'))).toHaveLength(1);

    disk.full = false; // the sender's retry of the last refused message
    expect((await client.send('a@sender.test', ['support@example.com'], message(100))).code).toBe(250);
    client.close();
    expect(t.accepted).toHaveLength(2);
    expect((await readdir(join(t.dir, 'journal'))).length).toBeLessThanOrEqual(2);

    // The process dies before any checkpoint: the next start rebuilds the store from the journal.
    const restarted = new LocalRawStore(t.dir);
    try {
      expect((await restarted.list()).sort()).toEqual(t.accepted.map((a) => a.id).sort());
      const texts = await Promise.all(t.accepted.map(async (a) => (await restarted.get(a.id)).toString()));
      expect(texts.filter((x) => x.includes('Subject: m100'))).toHaveLength(1);
    } finally {
      await restarted.close();
    }
  });
});

describe('pipeline while the stores refuse writes', () => {
  let dir: string;
  let store: SqliteMessageStore;
  let rawStore: LocalRawStore;
  const pipelines: Pipeline[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailroom-disk-full-'));
  });
  afterEach(async () => {
    for (const p of pipelines.splice(0)) await p.close();
    await store?.close();
    await rawStore?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('runs a message again, without a restart, when its outcome could not be recorded', async () => {
    const file = join(dir, 'mailroom.db');
    store = new SqliteMessageStore(file, { busyTimeoutMs: 0 });
    rawStore = new LocalRawStore(dir);
    const blocker = new Database(file);
    const errors: string[] = [];
    const logger: Logger = {
      debug() {},
      info() {},
      warn() {},
      error: (msg) => void errors.push(msg),
    };
    let runs = 0;
    const ticket = handler(() => {
      // The first run's effect happens, then the disk "fills": nothing after it can be recorded.
      if (++runs === 1) blocker.exec('BEGIN IMMEDIATE');
    }, 'ticket');
    const config = resolveConfig({
      domains: ['example.com'],
      routes: [{ name: 'support', match: 'support@example.com', action: ticket }],
      delivery: { attempts: 2, backoffMs: 20, maxBackoffMs: 50, processingDelayMaxMs: 0 },
    });
    const pipeline = createPipeline({ config, rawStore, store, logger });
    pipelines.push(pipeline);
    const { id } = await pipeline.accept({
      envelope: { mailFrom: 'a@sender.test', rcptTo: ['support@example.com'] },
      body: Buffer.from(message(1).slice(0, -3)),
    });
    await waitFor(
      async () => errors.some((e) => e.includes('could not record message failure')),
      'a failure',
    );
    expect((await store.getMessage(id))?.status).toBe('processing');

    blocker.exec('ROLLBACK'); // space again
    const done = await waitFor(async () => {
      const m = await store.getMessage(id);
      return m?.status === 'processed' ? m : null;
    }, 'processed without a restart');
    expect(done.deliveries).toMatchObject([{ route: 'support', status: 'delivered' }]);
    expect(runs).toBe(2); // at least once: the first run's outcome was never recorded
    blocker.close();
  });

  it('keeps no trace of a message whose raw write failed, so a restart does not duplicate its retry', async () => {
    const { disk, io } = fillingDisk();
    store = new SqliteMessageStore(join(dir, 'mailroom.db'));
    rawStore = new LocalRawStore(dir, { journalIo: io, checkpointIntervalMs: 60_000 });
    const config = resolveConfig({ domains: ['example.com'], routes: [] });
    const first = createPipeline({ config, rawStore, store });
    pipelines.push(first);
    const input = {
      envelope: { mailFrom: 'a@sender.test', rcptTo: ['support@example.com'] },
      body: Buffer.from(message(7).slice(0, -3)),
    };
    disk.full = true;
    await expect(first.accept(input)).rejects.toMatchObject({ code: 'ENOSPC' }); // the ingress says 451
    disk.full = false;
    const { id } = await first.accept(input); // the sender's retry
    await first.close();

    // A crash, then a restart: the journal is replayed and recovery looks for unrecorded messages.
    const restartedRaw = new LocalRawStore(dir);
    try {
      const second = createPipeline({ config, rawStore: restartedRaw, store });
      pipelines.push(second);
      expect(await restartedRaw.list()).toEqual([id]);
      expect((await second.recover()).orphans).toEqual([]);
      expect((await store.listMessages()).map((m) => m.id)).toEqual([id]);
    } finally {
      await restartedRaw.close();
    }
  });
});
