/**
 * The processing comparison of `npm run bench`, run pinned to one core by bench/suite/processing.ts:
 * Mailroom (as `mailroom smtp` builds it: startLocalMailroom, no HTTP) takes N messages through
 * `pipeline.accept()` (durable journal, the received record) and processing (parse, authenticate against
 * an empty static zone, route, mailbox delivery) until `drain()`; then Mailroom's `parseMessage` alone;
 * then the same accept → processed with processing in one worker thread (`delivery.workers: 1`, as
 * `mailroom smtp` runs it); and mailparser's `simpleParser` parses the same N messages one after another. Rounds alternate ABBA; prints one JSON line with msg/s of each.
 *
 *   node --import tsx bench/suite/processing-worker.ts MESSAGES ROUNDS
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { mailbox } from '../../lib/actions/builders.ts';
import { silentLogger } from '../../lib/actions/index.ts';
import { createStaticResolver } from '../../lib/auth/index.ts';
import { loadConfig, resolveConfig } from '../../lib/config/index.ts';
import { startLocalMailroom } from '../../lib/dev/index.ts';
import { parseMessage } from '../../lib/message/index.ts';
import { mailroomFiles } from './mailroom.ts';
import { abba } from './stats.ts';

/** A plain-text and HTML message of about 3 KB, the same bytes for both sides. */
export function processingMessage(i: number): Buffer {
  const para = 'Hello, this is a benchmark message with a few lines of ordinary text in it. ';
  return Buffer.from(
    [
      `From: Sender ${i} <sender${i}@client.test>`,
      'To: Support <support@example.com>',
      `Subject: processing bench ${i}`,
      `Message-ID: <processing-${i}@client.test>`,
      'Date: Mon, 07 Dec 2026 01:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      para.repeat(12),
      '',
      '> quoted earlier text',
      '',
      '--b1',
      'Content-Type: text/html; charset=utf-8',
      '',
      `<html><body><p>${para.repeat(12)}</p><blockquote>quoted earlier text</blockquote></body></html>`,
      '--b1--',
      '',
    ].join('\r\n'),
  );
}

/** Messages processed by each run before its clock starts. */
const WARM_MESSAGES = 200;

/** The processing worker's module, as `mailroom smtp` runs it from the sources. */
const WORKER_ENTRY = new URL('../../lib/cli/processing-worker.ts', import.meta.url).href;

/**
 * Mailroom as `mailroom smtp` builds it (no HTTP) with one mailbox route and an empty static DNS zone:
 * processing on this thread (`workers` 0), or in one processing worker thread (`delivery.workers: 1`; the
 * thread loads the bench's config file and the empty zone itself, as it does under `mailroom smtp`).
 */
async function startBenchMailroom(workers: 0 | 1) {
  if (workers === 0) {
    const dir = await mkdtemp(join(tmpdir(), 'mailroom-bench-processing-'));
    const config = resolveConfig({
      domains: ['example.com'],
      dataDir: dir,
      smtp: { host: '127.0.0.1', port: 0 },
      auth: { resolver: createStaticResolver({}) },
      routes: [{ match: 'support@example.com', action: mailbox('support') }],
    });
    return {
      dir,
      mailroom: await startLocalMailroom({ config, logger: silentLogger, http: false, prune: false }),
    };
  }
  const files = await mailroomFiles('processing', workers);
  const config = await loadConfig(files.config);
  config.auth.resolver = createStaticResolver({});
  const mailroom = await startLocalMailroom({
    config,
    logger: silentLogger,
    dataDir: files.data,
    smtpHost: '127.0.0.1',
    smtpPort: 0,
    http: false,
    prune: false,
    workers: { size: workers, entry: WORKER_ENTRY, configFile: files.config, dnsZone: files.zone },
  });
  return { dir: files.dir, mailroom };
}

async function mailroomRun(
  messages: Buffer[],
  workers: 0 | 1 = 0,
): Promise<{ total: number; accept: number }> {
  const { mailroom, dir } = await startBenchMailroom(workers);
  const envelope = {
    mailFrom: 'sender@client.test',
    rcptTo: ['support@example.com'],
    remoteAddress: '127.0.0.1',
  };
  try {
    // Warm before the clock starts: a worker thread is a new V8 isolate each run (its config loaded, its code
    // not yet optimised), where this thread's code is warm from the runs before; a running MX is warm.
    for (let i = 1; i <= WARM_MESSAGES; i++) {
      await mailroom.pipeline.accept({ envelope, body: processingMessage(-i) });
    }
    await mailroom.pipeline.drain();
    const start = performance.now();
    let next = 0;
    // 20 at a time, as 20 SMTP sessions would hand them in.
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < messages.length) {
          const body = messages[next++]!;
          await mailroom.pipeline.accept({ envelope, body });
        }
      }),
    );
    const accepted = performance.now();
    await mailroom.pipeline.drain();
    const done = performance.now();
    return {
      total: messages.length / ((done - start) / 1000),
      accept: messages.length / ((accepted - start) / 1000),
    };
  } finally {
    await mailroom.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function mailparserRun(messages: Buffer[]): Promise<number> {
  const start = performance.now();
  for (const message of messages) await simpleParser(message);
  return messages.length / ((performance.now() - start) / 1000);
}

/**
 * Mailroom's own parse alone (`parseMessage` with the default parse limits: MIME, charsets, reply text,
 * thread keys), one message after another: the ceiling of processing, which also records, authenticates,
 * routes and delivers.
 */
async function parseRun(messages: Buffer[]): Promise<number> {
  const limits = resolveConfig({ domains: ['example.com'], routes: [] }).parse;
  const start = performance.now();
  for (const message of messages) await parseMessage(message, limits);
  return messages.length / ((performance.now() - start) / 1000);
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 500);
  const rounds = Number(process.argv[3] ?? 2);
  const messages = Array.from({ length: n }, (_, i) => processingMessage(i));
  // Warm-up: JIT and the first SQLite file for both sides.
  await mailroomRun(messages.slice(0, Math.min(100, n)));
  await mailroomRun(messages.slice(0, Math.min(100, n)), 1);
  await mailparserRun(messages.slice(0, Math.min(100, n)));
  await parseRun(messages.slice(0, Math.min(100, n)));
  const result = {
    mailroom: [] as number[],
    mailroomAccept: [] as number[],
    mailroomParse: [] as number[],
    mailroomWorker: [] as number[],
    mailparser: [] as number[],
  };
  for (let round = 0; round < rounds; round++) {
    for (const side of abba(['mailroom', 'mailparser'] as const, round)) {
      if (side === 'mailroom') {
        const r = await mailroomRun(messages);
        result.mailroom.push(r.total);
        result.mailroomAccept.push(r.accept);
        result.mailroomParse.push(await parseRun(messages));
        result.mailroomWorker.push((await mailroomRun(messages, 1)).total);
      } else {
        result.mailparser.push(await mailparserRun(messages));
      }
    }
  }
  process.stdout.write(`${JSON.stringify({ messages: n, size: messages[0]!.length, ...result })}\n`);
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  await main();
}
