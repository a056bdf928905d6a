#!/usr/bin/env node
/**
 * Latency under steady load: `mailroom dev --config examples/mailroom.config.ts` (an empty DNS zone, so no
 * lookup leaves the machine) receives messages at a fixed rate over N SMTP sessions; each message is timed
 * from its `250 … queued as <id>` to its `message.processed` event on the dev API's `GET /api/events`.
 * Reports p50/p99/max, the backlog (accepted, not yet processed) when the load stops, and how long the
 * backlog then takes to drain. Everything stays on 127.0.0.1; every run is bounded and stops by itself.
 *
 *   node bench/latency.js [--rates 30,60,100] [--seconds 20] [--sessions 20] [--size 1024]
 *                         [--roots .,/path/to/other/checkout] [--server-cpus 0] [--client-cpus 1]
 *                         [--workers 0,2] [--env NAME=VALUE]... [--node-arg --cpu-prof]...
 *
 * `--roots`: Mailroom checkouts to compare (their bin/mailroom.js runs the config of the first root); runs
 * alternate root by root (ABBA over the rates) so that drift of the machine hits them alike.
 * `--workers`: run this checkout once per value of `delivery.workers` (a config importing the example's).
 * `--server-cpus`: pin the server with taskset (e.g. `0` for one core); unset: unpinned.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const HERE = resolve(new URL('..', import.meta.url).pathname);

async function main() {
  const { values } = parseArgs({
    options: {
      rates: { type: 'string', default: '30,60,100' },
      seconds: { type: 'string', default: '20' },
      sessions: { type: 'string', default: '20' },
      size: { type: 'string', default: '1024' },
      roots: { type: 'string', default: '.' },
      'server-cpus': { type: 'string' },
      'client-cpus': { type: 'string' },
      env: { type: 'string', multiple: true, default: [] },
      'node-arg': { type: 'string', multiple: true, default: [] },
      'drain-seconds': { type: 'string', default: '30' },
      workers: { type: 'string' },
    },
  });
  const rates = values.rates.split(',').map(Number);
  const roots = values.roots.split(',').map((r) => resolve(r));
  const opts = {
    seconds: Number(values.seconds),
    sessions: Number(values.sessions),
    size: Number(values.size),
    serverCpus: values['server-cpus'],
    drainSeconds: Number(values['drain-seconds']),
    workers: values.workers === undefined ? undefined : values.workers.split(',').map(Number),
    nodeArgs: values['node-arg'],
    env: Object.fromEntries(
      values.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    ),
  };
  console.log(
    `latency: ${opts.sessions} sessions, ${opts.size} B messages, ${opts.seconds} s per run, ` +
      `server ${opts.serverCpus === undefined ? 'unpinned' : `on CPU ${opts.serverCpus}`}, ` +
      `${cpus().length} CPUs, load average ${loadavg()[0].toFixed(2)}`,
  );
  // Each variant: a checkout, with `delivery.workers` set (--workers) or as the example config has it.
  // Another checkout (a base to compare with) may not know the option: it runs as it is.
  const variants = roots.flatMap((root) =>
    (root === HERE ? (opts.workers ?? [undefined]) : [undefined]).map((workers) => ({ root, workers })),
  );
  const results = [];
  rates.forEach((rate, i) => {
    const order = i % 2 === 0 ? variants : [...variants].reverse();
    for (const v of order) results.push({ rate, ...v });
  });
  for (const run of results) {
    Object.assign(run, await runOnce(run, opts));
    console.log(describe(run));
  }
  console.log(`load average at the end ${loadavg()[0].toFixed(2)}`);
  console.log(JSON.stringify(results.map(({ latencies, ...r }) => r)));
}

function describe(r) {
  const ms = (v) => (v === null ? '—' : `${v.toFixed(0)} ms`);
  return (
    `${r.root === HERE ? 'this' : r.root}${r.workers === undefined ? '' : ` workers=${r.workers}`} @ ${r.rate} msg/s: sent ${r.accepted}/${r.planned} ` +
    `(${r.achieved.toFixed(1)} msg/s), p50 ${ms(r.p50)}, p99 ${ms(r.p99)}, max ${ms(r.max)}, ` +
    `backlog at stop ${r.backlogAtStop} (peak ${r.backlogPeak}), drained in ${r.drainMs === null ? `>${r.drainLimit} s` : ms(r.drainMs)}, ` +
    `client late ${r.late}, errors ${r.errors}, server CPU ${r.cpuPerMessageMs.toFixed(2)} ms/msg`
  );
}

function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function runOnce({ root, rate, workers }, opts) {
  const dir = await mkdtemp(join(tmpdir(), 'mailroom-latency-'));
  const zone = join(dir, 'zone.json');
  await writeFile(zone, '{}');
  let config = join(HERE, 'examples/mailroom.config.ts');
  if (workers !== undefined) {
    const example = JSON.stringify(config);
    config = join(dir, 'mailroom.config.ts');
    await writeFile(
      config,
      `import base from ${example};\nexport default { ...base, delivery: { ...base.delivery, workers: ${workers} } };\n`,
    );
  }
  const server = await startServer(root, dir, zone, config, opts);
  try {
    const events = await subscribe(server.httpPort);
    const cpuBefore = await cpuMs(server.pid);
    const stats = await drive(server.smtpPort, rate, opts, events);
    // CPU the server spent per message (load and drain): less at the mercy of other work than wall time.
    stats.cpuPerMessageMs = ((await cpuMs(server.pid)) - cpuBefore) / Math.max(1, stats.accepted);
    events.close();
    return stats;
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Starts `mailroom dev` of `root` with free ports; resolves with them once it listens. */
function startServer(root, dir, zone, config, opts) {
  const args = [
    ...opts.nodeArgs,
    join(root, 'bin/mailroom.js'),
    'dev',
    '--config',
    config,
    '--data',
    join(dir, 'data'),
    '--dns',
    zone,
    '--smtp-port',
    '0',
    '--http-port',
    '0',
  ];
  const [cmd, argv] =
    opts.serverCpus === undefined
      ? [process.execPath, args]
      : ['taskset', ['-c', opts.serverCpus, process.execPath, ...args]];
  const child = spawn(cmd, argv, {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  let stderr = '';
  return new Promise((resolvePorts, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mailroom dev did not start: ${stderr}`));
    }, 60_000);
    child.once('exit', (code) => reject(new Error(`mailroom dev exited (${code}): ${stderr}`)));
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /SMTP on [^:]+:(\d+), web UI and API on http:\/\/[^:]+:(\d+)\//.exec(stderr);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      stderr = '';
      resolvePorts({
        pid: child.pid,
        smtpPort: Number(m[1]),
        httpPort: Number(m[2]),
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
            child.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

/** `GET /api/events`: resolves with a map of id → time of its `message.processed` (performance.now()). */
function subscribe(httpPort) {
  const processed = new Map();
  const waiters = new Set();
  return new Promise((resolveSub, reject) => {
    const req = request({ host: '127.0.0.1', port: httpPort, path: '/api/events' }, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
          if (!block.startsWith('event: message.processed')) continue;
          const data = JSON.parse(block.slice(block.indexOf('data: ') + 6));
          processed.set(data.id, performance.now());
          for (const w of waiters) w();
        }
      });
      resolveSub({
        processed,
        changed: () =>
          new Promise((r) => {
            const w = () => {
              waiters.delete(w);
              r();
            };
            waiters.add(w);
            setTimeout(w, 250);
          }),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** One SMTP session: EHLO once, then one transaction per `send()`; resolves with the id from the 250. */
function openSession(port) {
  const socket = connect({ host: '127.0.0.1', port });
  socket.setEncoding('latin1');
  socket.setNoDelay(true);
  let buffer = '';
  let waiting = null;
  socket.on('data', (chunk) => {
    buffer += chunk;
    // A reply is complete at a line whose code is followed by a space.
    const lines = buffer.split('\r\n');
    for (let i = 0; i < lines.length - 1; i++) {
      if (/^\d{3} /.test(lines[i])) {
        const reply = lines.slice(0, i + 1).join('\n');
        buffer = lines.slice(i + 1).join('\r\n');
        const w = waiting;
        waiting = null;
        w?.resolve(reply);
        return;
      }
    }
  });
  socket.on('error', (err) => waiting?.reject(err));
  socket.on('close', () => waiting?.reject(new Error('connection closed')));
  const reply = () => new Promise((res, rej) => (waiting = { resolve: res, reject: rej }));
  const command = async (line, expect) => {
    const answer = reply();
    socket.write(`${line}\r\n`);
    const text = await answer;
    if (!text.startsWith(expect)) throw new Error(`${line.slice(0, 20)}: ${text}`);
    return text;
  };
  return {
    async ready() {
      const greeting = await reply();
      if (!greeting.startsWith('220')) throw new Error(greeting);
      await command('EHLO client.test', '250');
    },
    async send(body) {
      await command('MAIL FROM:<sender@client.test>', '250');
      await command('RCPT TO:<support@example.com>', '250');
      await command('DATA', '354');
      const text = await command(`${body}\r\n.`, '250');
      return /queued as ([a-z0-9-]+)/.exec(text)?.[1] ?? null;
    },
    close() {
      socket.end('QUIT\r\n');
    },
  };
}

function body(i, size) {
  const head =
    `From: Sender <sender@client.test>\r\nTo: support@example.com\r\nSubject: latency ${i}\r\n` +
    `Message-ID: <latency-${i}-${Date.now()}@client.test>\r\nDate: ${new Date().toUTCString()}\r\n\r\n`;
  const line = 'The quick brown fox jumps over the lazy dog, again and again and again.\r\n';
  let text = '';
  while (head.length + text.length < size) text += line;
  return head + text.slice(0, Math.max(0, size - head.length));
}

/** Sends at `rate` for `opts.seconds`; each message starts at its slot on the first free session. */
async function drive(smtpPort, rate, opts, events) {
  const sessions = [];
  for (let i = 0; i < opts.sessions; i++) {
    const s = openSession(smtpPort);
    await s.ready();
    sessions.push(s);
  }
  const planned = Math.round(rate * opts.seconds);
  const acceptedAt = new Map();
  const free = [...sessions];
  const queue = [];
  let late = 0;
  let errors = 0;
  let backlogPeak = 0;
  const start = performance.now() + 100;
  const inFlight = new Set();
  const run = (session, i) => {
    const slot = start + (i * 1000) / rate;
    if (performance.now() - slot > 100) late++;
    const p = session
      .send(body(i, opts.size))
      .then((id) => {
        const t = performance.now();
        if (id) acceptedAt.set(id, t);
        else errors++;
      })
      .catch(() => errors++)
      .finally(() => {
        inFlight.delete(p);
        const next = queue.shift();
        if (next !== undefined) run(session, next);
        else free.push(session);
      });
    inFlight.add(p);
  };
  for (let i = 0; i < planned; i++) {
    const wait = start + (i * 1000) / rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const session = free.pop();
    if (session) run(session, i);
    else queue.push(i);
    if (i % 20 === 0) backlogPeak = Math.max(backlogPeak, backlog(acceptedAt, events.processed));
  }
  while (inFlight.size > 0) await Promise.race(inFlight);
  const stopAt = performance.now();
  const achieved = (acceptedAt.size * 1000) / (stopAt - start);
  const backlogAtStop = backlog(acceptedAt, events.processed);
  backlogPeak = Math.max(backlogPeak, backlogAtStop);
  let drainMs = null;
  while (performance.now() - stopAt < opts.drainSeconds * 1000) {
    if (backlog(acceptedAt, events.processed) === 0) {
      drainMs = performance.now() - stopAt;
      break;
    }
    await events.changed();
  }
  for (const s of sessions) s.close();
  const latencies = [...acceptedAt]
    .filter(([id]) => events.processed.has(id))
    .map(([id, t]) => Math.max(0, events.processed.get(id) - t))
    .sort((a, b) => a - b);
  return {
    planned,
    accepted: acceptedAt.size,
    achieved,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies.at(-1) ?? null,
    backlogAtStop,
    backlogPeak,
    drainMs,
    drainLimit: opts.drainSeconds,
    late,
    errors,
  };
}

/**
 * User + system CPU time of process `pid` (Linux /proc) in ms: its threads, the children it has waited for,
 * and its children still running with theirs (such as the small shell its checkpoints sync through).
 */
async function cpuMs(pid) {
  const own = await statFields(pid);
  if (!own) return Number.NaN;
  let ticks = cpuTicks(own);
  for (const entry of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(entry) || Number(entry) === pid) continue;
    const fields = await statFields(Number(entry));
    if (fields && Number(fields[1]) === pid) ticks += cpuTicks(fields);
  }
  return (ticks * 1000) / 100; // clock ticks (USER_HZ 100)
}

/** The fields of /proc/<pid>/stat after the command name (state, ppid, …); null when it is gone. */
async function statFields(pid) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return stat ? stat.slice(stat.lastIndexOf(')') + 2).split(' ') : null;
}

/** utime + stime + cutime + cstime, in clock ticks. */
function cpuTicks(fields) {
  return fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0);
}

function backlog(acceptedAt, processed) {
  let n = 0;
  for (const id of acceptedAt.keys()) if (!processed.has(id)) n++;
  return n;
}

await main();
