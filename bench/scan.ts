/**
 * Scan cost benchmark: what the end-of-DATA scan adds to each message, through Mailroom's own clients
 * (`createRspamdScanner`, `createClamavScanner`) against real rspamd and clamd started for the run (the
 * tests' helpers: free ports, temp dirs, DNS pointed at a closed port, ClamAV with the EICAR signature only).
 *
 *   npm run bench:scan [-- --runs 200]
 *
 * For each scanner and message size (1 KB, 1 MB): sequential scans, one at a time, after a warm-up;
 * reports the median and p95 milliseconds per message and the throughput of one client. Skips with a notice
 * when rspamd, clamd or sigtool is not installed.
 *
 * What it does not measure: rspamd's network checks (DNS blocklists, SPF/DKIM DNS; offline here), and
 * ClamAV with the official ~1.5 GB database (here one signature), which costs more per message; see
 * README for what that means for the figures.
 */
import { parseArgs } from 'node:util';
import { createClamavScanner, createRspamdScanner } from '../lib/scan/index.ts';
import { scanDaemonsMissing, startClamd, startRspamd } from '../test/support/scan-daemons.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '200' } } });
const runs = Math.max(10, Number(values.runs) || 200);

function message(bytes: number): Buffer {
  const head =
    'From: Ada Lovelace <ada@sender.test>\r\nTo: support@example.com\r\nSubject: Benchmark\r\n' +
    'Date: Sun, 06 Dec 2026 10:00:00 +0000\r\nMessage-ID: <bench@sender.test>\r\nMIME-Version: 1.0\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\n\r\n';
  const line = 'The quick brown fox jumps over the lazy dog, and the support team answers every ticket.\r\n';
  let body = '';
  while (head.length + body.length < bytes) body += line;
  return Buffer.from((head + body).slice(0, bytes), 'utf8');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function measure(name: string, scan: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < Math.min(20, runs); i++) await scan();
  const times: number[] = [];
  const start = performance.now();
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await scan();
    times.push(performance.now() - t);
  }
  const total = performance.now() - start;
  times.sort((a, b) => a - b);
  console.log(
    `${name.padEnd(18)} median ${percentile(times, 50).toFixed(2).padStart(7)} ms   p95 ${percentile(
      times,
      95,
    )
      .toFixed(2)
      .padStart(7)} ms   ${((runs / total) * 1000).toFixed(0).padStart(5)} msg/s (one client)`,
  );
}

const missing = scanDaemonsMissing();
if (missing.length > 0) {
  console.log(
    `bench:scan skipped: ${missing.join(', ')} not installed (apt-get install rspamd clamav-daemon clamav)`,
  );
  process.exit(0);
}

const [rspamd, clamd] = await Promise.all([startRspamd(), startClamd()]);
try {
  const spam = createRspamdScanner({ url: `http://127.0.0.1:${rspamd.port}` });
  const virus = createClamavScanner({ host: '127.0.0.1', port: clamd.port });
  const envelope = {
    mailFrom: 'ada@sender.test',
    rcptTo: ['support@example.com'],
    remoteAddress: '127.0.0.1',
    helo: 'sender.test',
  };
  console.log(`scan cost per message, ${runs} sequential scans each (node ${process.version})`);
  for (const [label, bytes] of [
    ['1 KB', 1024],
    ['1 MB', 1024 * 1024],
  ] as const) {
    const raw = message(bytes);
    await measure(`rspamd ${label}`, () => spam.check({ raw, envelope }, AbortSignal.timeout(30_000)));
    await measure(`clamd ${label}`, () => virus.scan(raw, AbortSignal.timeout(30_000)));
    await measure(`both ${label}`, () =>
      Promise.all([
        spam.check({ raw, envelope }, AbortSignal.timeout(30_000)),
        virus.scan(raw, AbortSignal.timeout(30_000)),
      ]),
    );
  }
} finally {
  await Promise.all([rspamd.dispose(), clamd.dispose()]);
}
