import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../lib/config/index.ts';
import { type LocalMailroom, startLocalMailroom } from '../../lib/dev/index.ts';
import { silentLogger } from '../../lib/kernel/index.ts';
import { type PipelineEvent, ProcessingPool } from '../../lib/pipeline/index.ts';
import { newThreadsAt, threadNiceValues, threadPrioritiesVisible } from '../support/thread-priority.ts';

/**
 * `mailroom smtp` / `mailroom dev` processing in worker threads (real ones, loading the config module
 * themselves): the same records and events as processing on the main thread, and a worker that dies
 * mid-message is replaced and the message run again, its delivery done once.
 */
const ENTRY = pathToFileURL(join(import.meta.dirname, '../../lib/cli/processing-worker.ts')).href;
const dirs: string[] = [];
const running: LocalMailroom[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/**
 * A config whose `hook@` handler appends a line to `<dir>/hook.log`; the first call of a message whose
 * subject starts with `die` first leaves `<dir>/died` and ends its thread (as a crash of the worker would).
 */
const CONFIG = `
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineMailroom, handler, mailbox } from 'mailroom';
const dir = import.meta.dirname;
export default defineMailroom({
  domains: ['example.com'],
  routes: [
    { name: 'support', match: 'support@example.com', action: mailbox('support') },
    {
      name: 'hook',
      match: 'hook@example.com',
      action: handler(async (ctx) => {
        const subject = ctx.message.subject ?? '';
        if (subject.startsWith('die') && !existsSync(join(dir, 'died'))) {
          writeFileSync(join(dir, 'died'), '');
          process.exit(1);
        }
        appendFileSync(join(dir, 'hook.log'), subject + '\\n');
      }),
    },
  ],
  delivery: { workers: 2, processingDelayMaxMs: 0, backoffMs: 10, maxBackoffMs: 50 },
});
`;

async function start() {
  const dir = await mkdtemp(join(tmpdir(), 'mailroom-workers-'));
  dirs.push(dir);
  const configFile = join(dir, 'mailroom.config.ts');
  await writeFile(configFile, CONFIG);
  const config = await loadConfig(configFile);
  const mailroom = await startLocalMailroom({
    config,
    logger: silentLogger,
    dataDir: join(dir, 'data'),
    smtpPort: 0,
    smtpHost: '127.0.0.1',
    http: false,
    prune: false,
    workers: { size: 2, entry: ENTRY, configFile, dnsZone: null },
  });
  running.push(mailroom);
  const events: PipelineEvent[] = [];
  mailroom.pipeline.onEvent((e) => events.push(e));
  const send = async (to: string, subject: string) => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: mailroom.smtpPort,
      ignoreTLS: true,
    });
    try {
      const info = await transport.sendMail({ from: 'a@client.test', to, subject, text: 'hello' });
      return /queued as (\S+)/.exec(info.response)![1]!;
    } finally {
      transport.close();
    }
  };
  /** Resolves once `id` has its processed (or failed) event. */
  const settled = (id: string) =>
    new Promise<PipelineEvent>((resolve) => {
      const found = events.find(
        (e) => e.id === id && e.type !== 'message.received' && e.type.startsWith('message.'),
      );
      if (found) return resolve(found);
      const off = mailroom.pipeline.onEvent((e) => {
        if (e.id === id && (e.type === 'message.processed' || e.type === 'message.failed')) {
          off();
          resolve(e);
        }
      });
    });
  return { dir, mailroom, events, send, settled };
}

describe('processing in worker threads', () => {
  it('processes messages in the workers, with the same records and events as on the main thread', async () => {
    const { mailroom, events, send, settled } = await start();
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => send('support@example.com', `m${i}`)));
    for (const id of ids) expect((await settled(id)).type).toBe('message.processed');
    for (const id of ids) {
      const types = events.filter((e) => e.id === id).map((e) => e.type);
      expect(types[0]).toBe('message.received');
      expect(types.at(-1)).toBe('message.processed');
      expect(types.filter((t) => t === 'message.processed')).toHaveLength(1);
      expect(events).toContainEqual(
        expect.objectContaining({
          type: 'delivery.updated',
          id,
          delivery: expect.objectContaining({ status: 'delivered', mailbox: 'support' }),
        }),
      );
      expect(await mailroom.pipeline.process(id)).toBe('processed'); // a run again delivers nothing twice
    }
    const entries = await mailroom.pipeline.listFailed();
    expect(entries).toEqual([]);
  });

  it.runIf(threadPrioritiesVisible)(
    'runs the workers (and the journal checkpoint writer) at a lower scheduling priority than the SMTP thread (nice 10)',
    async () => {
      const before = threadNiceValues();
      const { send, settled } = await start();
      const ids = await Promise.all([send('support@example.com', 'a'), send('support@example.com', 'b')]);
      for (const id of ids) await settled(id);
      // The two workers, and the raw store's checkpoint writer once it has written the journal out (200 ms).
      await vi.waitFor(() => expect(newThreadsAt(before, 10)).toHaveLength(3), { timeout: 10_000 });
      expect(getPriority()).toBeLessThan(10); // this (the SMTP) thread keeps its own
    },
  );

  it('replaces a worker that died mid-message and runs the message again, its delivery done once', async () => {
    const { dir, send, settled } = await start();
    const id = await send('hook@example.com', 'die once');
    const other = await send('hook@example.com', 'fine');
    expect((await settled(id)).type).toBe('message.processed');
    expect((await settled(other)).type).toBe('message.processed');
    const lines = (await readFile(join(dir, 'hook.log'), 'utf8')).trim().split('\n').sort();
    expect(lines).toEqual(['die once', 'fine']);
  });

  it('moves bytes handed over to the worker without a copy, and copies the others', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mailroom-workers-'));
    dirs.push(dir);
    await writeFile(join(dir, 'mailroom.config.ts'), CONFIG);
    const dataDir = join(dir, 'data');
    await mkdir(dataDir);
    const events: PipelineEvent[] = [];
    const pool = new ProcessingPool({
      size: 1,
      entry: ENTRY,
      data: () => ({ configFile: join(dir, 'mailroom.config.ts'), dnsZone: null, dataDir, http: false }),
      emit: (e) => events.push(e),
      logger: silentLogger,
    });
    try {
      const text = 'x'.repeat(3 * 1024 * 1024);
      const message = (id: string) =>
        Buffer.from(`From: a@client.test\r\nTo: support@example.com\r\nSubject: ${id}\r\n\r\n${text}\r\n`);
      const envelope = {
        mailFrom: 'a@client.test',
        rcptTo: ['support@example.com'],
        remoteAddress: '127.0.0.1',
      };
      const run = async (id: string, raw: Buffer, handOver: boolean) => {
        const receivedAt = new Date().toISOString();
        await pool.recordArrival({ id, envelope, size: raw.length, receivedAt, auth: null });
        const result = await pool.run({ id, raw, envelope, auth: null, receivedAt }, { handOver });
        return { result, left: raw.length }; // what the caller still has once the message was posted
      };
      const moved = Buffer.allocUnsafeSlow(message('moved').length);
      message('moved').copy(moved);
      const taken = await run('moved', moved, true);
      expect(taken.left).toBe(0); // transferred: the caller's view is empty
      expect(taken.result.status).toBe('processed');
      const kept = message('kept');
      const copied = await run('kept', kept, false);
      expect(copied.left).toBe(kept.length);
      expect(kept.subarray(-5).toString()).toBe('xxx\r\n');
      expect(copied.result.status).toBe('processed');
      expect(events.filter((e) => e.type === 'message.processed').map((e) => e.id)).toEqual([
        'moved',
        'kept',
      ]);
    } finally {
      await pool.close();
    }
  });
});
