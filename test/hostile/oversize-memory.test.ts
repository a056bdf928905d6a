import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCode, RawSmtpClient } from '../integration/smtp/helpers.ts';

/*
 * Method: the ingress runs in a child process (`fixtures/ingress-server.ts`) with a 1 MiB limit and a real
 * LocalRawStore. After a warm-up (one normal and one small oversized message) the child collects garbage
 * and records its memory as the baseline, then samples `process.memoryUsage()` every 2 ms, keeping the
 * peaks. The test sends a 64 MiB and then a 256 MiB message over a raw socket in 1 MiB writes (honouring
 * backpressure) and asks for the peaks after each 552. Growth of rss and of arrayBuffers (Buffer memory)
 * must stay bounded (well under 64 MiB) and must not grow with the message size: the ingress discards what
 * it cannot accept instead of holding it.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MiB = 1024 * 1024;
const LIMIT = MiB;

type Usage = { rss: number; arrayBuffers: number; external: number; heapUsed: number };
type Stats = { baseline: Usage; peak: Usage; samples: number };

let child: ChildProcess;
let port: number;
let dir: string;

function request<T>(msg: string, type: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (m: { type: string }) => {
      if (m.type !== type) return;
      child.off('message', onMessage);
      resolve(m as T);
    };
    child.on('message', onMessage);
    child.send(msg);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailroom-oversize-'));
  child = fork(
    join(import.meta.dirname, '../integration/smtp/fixtures/ingress-server.ts'),
    [dir, String(LIMIT)],
    {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const [ready] = (await once(child, 'message')) as [{ port: number }];
  port = ready.port;
});

afterAll(async () => {
  if (child?.connected) {
    child.send('stop');
    await once(child, 'exit');
  }
  await rm(dir, { recursive: true, force: true });
});

async function sendOversized(client: RawSmtpClient, bytes: number): Promise<string> {
  await expectCode(client.command('MAIL FROM:<a@elsewhere.test>'), 250);
  await expectCode(client.command('RCPT TO:<support@example.com>'), 250);
  await expectCode(client.command('DATA'), 354);
  const line = `${'a'.repeat(1022)}\r\n`;
  const chunk = Buffer.from(line.repeat(MiB / line.length));
  for (let sent = 0; sent < bytes; sent += chunk.length) await client.writeAsync(chunk);
  await client.writeAsync('.\r\n');
  return (await client.reply()).text;
}

async function measure(client: RawSmtpClient, bytes: number): Promise<Usage> {
  await request('baseline', 'baseline');
  const started = Date.now();
  expect(await sendOversized(client, bytes)).toBe('552 5.3.4 Message too big');
  const seconds = (Date.now() - started) / 1000;
  const { baseline, peak, samples } = await request<Stats>('stats', 'stats');
  expect(samples).toBeGreaterThan(10);
  const growth = {
    rss: peak.rss - baseline.rss,
    arrayBuffers: peak.arrayBuffers - baseline.arrayBuffers,
    external: peak.external - baseline.external,
    heapUsed: peak.heapUsed - baseline.heapUsed,
  };
  const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
  console.log(
    `oversize: sent ${mib(bytes)} in ${seconds.toFixed(2)} s (${samples} samples); peak growth ` +
      `rss ${mib(growth.rss)}, arrayBuffers ${mib(growth.arrayBuffers)}, heapUsed ${mib(growth.heapUsed)}`,
  );
  return growth;
}

describe('SMTP ingress: oversized message', () => {
  it('refuses 64 MiB and 256 MiB with 552 5.3.4; memory does not grow with the message size', async () => {
    const { client } = await RawSmtpClient.open(port);
    // Warm-up, so that the baseline includes the code paths used below.
    expect(
      (await client.send('a@x.test', ['support@example.com'], 'Subject: w\r\n\r\nw\r\n.\r\n')).code,
    ).toBe(250);
    expect(await sendOversized(client, 2 * MiB)).toBe('552 5.3.4 Message too big');

    const small = await measure(client, 64 * MiB);
    const big = await measure(client, 256 * MiB);
    // The peaks are socket-read Buffers that V8 has not collected yet (it collects once its external-memory
    // soft limit, 64 MiB, is reached), the same for 16, 64 or 256 MiB: bounded, not proportional. Measured
    // here alone (the hostile suite runs one file at a time): 40–52 MiB for both sizes.
    for (const growth of [small, big]) {
      expect(growth.arrayBuffers).toBeLessThan(80 * MiB);
      expect(growth.rss).toBeLessThan(80 * MiB);
      expect(growth.heapUsed).toBeLessThan(8 * MiB);
    }
    expect(big.arrayBuffers - small.arrayBuffers).toBeLessThan(32 * MiB);
    expect(big.rss - small.rss).toBeLessThan(32 * MiB);

    // Nothing kept; the session goes on.
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    // The one small message sent earlier; journaled messages are written out as files within ~200 ms.
    for (let i = 0; i < 100 && (await readdir(join(dir, 'raw'))).length === 0; i++) await sleep(50);
    expect(await readdir(join(dir, 'raw'))).toHaveLength(1);
    expect(
      (await client.send('a@x.test', ['support@example.com'], 'Subject: n\r\n\r\nn\r\n.\r\n')).code,
    ).toBe(250);
    client.close();
  }, 120_000);
});
