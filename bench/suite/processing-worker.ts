/**
 * The processing comparison of `npm run bench`, run pinned to one core by bench/suite/processing.ts:
 * Mailroom (as `mailroom smtp` builds it: startLocalMailroom, no HTTP) takes N messages through
 * `pipeline.accept()` (durable journal, the received record) and processing (parse, authenticate against
 * an empty static zone, route, mailbox delivery) until `drain()`, then Mailroom's `parseMessage` alone; and
 * mailparser's `simpleParser` parses the same N messages one after another. Rounds alternate ABBA; prints one JSON line with msg/s of each.
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
import { resolveConfig } from '../../lib/config/index.ts';
import { startLocalMailroom } from '../../lib/dev/index.ts';
import { parseMessage } from '../../lib/message/index.ts';
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

async function mailroomRun(messages: Buffer[]): Promise<{ total: number; accept: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'mailroom-bench-processing-'));
  const config = resolveConfig({
    domains: ['example.com'],
    dataDir: dir,
    smtp: { host: '127.0.0.1', port: 0 },
    auth: { resolver: createStaticResolver({}) },
    routes: [{ match: 'support@example.com', action: mailbox('support') }],
  });
  const mailroom = await startLocalMailroom({ config, logger: silentLogger, http: false, prune: false });
  try {
    const start = performance.now();
    let next = 0;
    // 20 at a time, as 20 SMTP sessions would hand them in.
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < messages.length) {
          const body = messages[next++]!;
          await mailroom.pipeline.accept({
            envelope: {
              mailFrom: 'sender@client.test',
              rcptTo: ['support@example.com'],
              remoteAddress: '127.0.0.1',
            },
            body,
          });
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
  await mailparserRun(messages.slice(0, Math.min(100, n)));
  await parseRun(messages.slice(0, Math.min(100, n)));
  const result = {
    mailroom: [] as number[],
    mailroomAccept: [] as number[],
    mailroomParse: [] as number[],
    mailparser: [] as number[],
  };
  for (let round = 0; round < rounds; round++) {
    for (const side of abba(['mailroom', 'mailparser'] as const, round)) {
      if (side === 'mailroom') {
        const r = await mailroomRun(messages);
        result.mailroom.push(r.total);
        result.mailroomAccept.push(r.accept);
        result.mailroomParse.push(await parseRun(messages));
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
