#!/usr/bin/env node
/**
 * Processing benchmark: `mailroom dev` on the example config takes N messages through the dev HTTP API
 * (`POST /api/messages`, the same pipeline as SMTP: durable accept, received record, then parse,
 * authenticate, route, mailbox delivery) from C concurrent clients; the figure is messages per second from
 * the first POST until every message reads `processed`.
 *
 * With `--compare DIR` (another checkout of Mailroom with its node_modules), both run side by side in one
 * run, alternating ABBA, so that the machine's drift hits both alike; the ratio is this/other.
 *
 *   node bench/process.js [--messages 600] [--concurrency 8] [--rounds 2] [--compare ../other-checkout]
 *
 * Everything listens on 127.0.0.1 and stops by itself.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const HERE = resolve(import.meta.dirname, '..');

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '600' },
    concurrency: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
    compare: { type: 'string' },
  },
});
const N = Number(values.messages);
const C = Number(values.concurrency);
const ROUNDS = Number(values.rounds);

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

function message(i) {
  return Buffer.from(
    [
      `From: Sender ${i} <sender${i}@example.org>`,
      'To: support@example.com',
      `Subject: bench message ${i}`,
      `Message-ID: <bench-${i}-${Date.now()}@example.org>`,
      `Date: ${new Date().toUTCString()}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `Hello, this is message ${i}.`,
      '',
      '> quoted earlier text',
      '> more quoted text',
      '',
      '-- ',
      'Sender',
      '',
    ].join('\r\n'),
  );
}

async function waitHealthy(base, child) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`mailroom dev exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${base}/api/health`);
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('mailroom dev did not become healthy in 60 s');
}

async function runOnce(root) {
  const data = await mkdtemp(join(tmpdir(), 'mailroom-bench-process-'));
  const [smtpPort, httpPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      join(root, 'bin', 'mailroom.js'),
      'dev',
      '--config',
      join(root, 'examples', 'mailroom.config.ts'),
      '--data',
      data,
      '--smtp-port',
      String(smtpPort),
      '--http-port',
      String(httpPort),
    ],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, MAILROOM_LOG_LEVEL: 'error' },
    },
  );
  const base = `http://127.0.0.1:${httpPort}`;
  try {
    await waitHealthy(base, child);
    const ids = [];
    const start = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: C }, async () => {
        while (next < N) {
          const i = next++;
          const r = await fetch(`${base}/api/messages?from=sender${i}@example.org&to=support@example.com`, {
            method: 'POST',
            headers: { 'content-type': 'message/rfc822', 'x-mailroom-request': '1' },
            body: message(i),
          });
          if (r.status !== 201) throw new Error(`POST answered ${r.status}: ${await r.text()}`);
          ids.push((await r.json()).id);
        }
      }),
    );
    const accepted = performance.now() - start;
    const pending = new Set(ids);
    while (pending.size > 0) {
      for (const id of [...pending].slice(0, 64)) {
        const r = await fetch(`${base}/api/messages/${id}`);
        const { status } = await r.json();
        if (status === 'processed') pending.delete(id);
        else if (status === 'failed') throw new Error(`message ${id} failed`);
      }
      if (pending.size > 0) await new Promise((r) => setTimeout(r, 50));
      if (performance.now() - start > 600_000)
        throw new Error(`${pending.size} messages unprocessed after 600 s`);
    }
    const total = performance.now() - start;
    return { acceptPerSec: (N / accepted) * 1000, processedPerSec: (N / total) * 1000 };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    await rm(data, { recursive: true, force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const roots = values.compare ? { this: HERE, other: resolve(values.compare) } : { this: HERE };
  const results = Object.fromEntries(Object.keys(roots).map((k) => [k, []]));
  console.log(
    `process bench: ${N} messages, ${C} clients, ${ROUNDS} rounds; ${cpus().length} cpus, load ${loadavg()[0].toFixed(2)}`,
  );
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? Object.keys(roots) : Object.keys(roots).reverse();
    for (const name of order) {
      const r = await runOnce(roots[name]);
      results[name].push(r);
      console.log(
        `  round ${round + 1} ${name.padEnd(5)} accepted ${r.acceptPerSec.toFixed(0)}/s, processed ${r.processedPerSec.toFixed(0)}/s  (${roots[name]})`,
      );
    }
  }
  for (const [name, rs] of Object.entries(results)) {
    console.log(
      `${name.padEnd(5)} median: accepted ${median(rs.map((r) => r.acceptPerSec)).toFixed(0)}/s, processed ${median(rs.map((r) => r.processedPerSec)).toFixed(0)}/s`,
    );
  }
  if (values.compare) {
    const ratio = (k) => median(results.this.map((r) => r[k])) / median(results.other.map((r) => r[k]));
    console.log(
      `ratio this/other: accepted ${ratio('acceptPerSec').toFixed(2)}×, processed ${ratio('processedPerSec').toFixed(2)}×`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
