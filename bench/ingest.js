#!/usr/bin/env node
/**
 * Ingest benchmark: Postfix's `smtp-source` against
 *   (a) "bare": a plain smtp-server that writes each message to a file and fsyncs it before `250`, and
 *   (b) "mailroom": Mailroom as `mailroom smtp` runs it — ingress, LocalRawStore (group-commit journal,
 *       fdatasync before 250), the SQLite "received" record, and processing running alongside.
 * Each server runs in its own child process with the same environment; runs alternate (ABBA) so that
 * drift of the machine hits both alike. Everything stays on 127.0.0.1 and stops by itself.
 *
 *   node bench/ingest.js [--rounds 4] [--messages 5000] [--sessions 20] [--size 1024] [--raw-only]
 *                        [--compare <checkout>] [--pin] [--cpu-prof <dir>] [--heap-prof <dir>]
 *                        [--servers bare,mailroom,…]
 *                        [--node-arg=--trace-gc]…
 *
 * Mailroom runs as `mailroom smtp` does: end-of-DATA authentication (here against an empty static DNS
 * zone) and the console logger at `info` (its lines go to a log file in the server's data directory).
 *
 * `--raw-only` adds an informative column: the ingress with LocalRawStore alone (no record, no
 * processing), not part of the ratio.
 * `--compare <checkout>` adds a column "base": Mailroom from another checkout of the repository (e.g. a
 * worktree of the base commit), run the same way, so a change is measured side by side with what it changes.
 * `--pin` runs every server on CPU 0 and `smtp-source` on CPU 1 (`taskset`), one core each.
 * `--cpu-prof <dir>` writes a V8 CPU profile of each server's main thread during its first measured run
 * (from the first connection to the last reply: ingest, not the processing left after it) to
 * `<dir>/<server>.cpuprofile`.
 * `--heap-prof <dir>` does the same with V8's sampling heap profiler, counting what was allocated whether or
 * not it was collected since (`<dir>/<server>.heapprofile`, for Chrome DevTools' memory tab): where the
 * main thread allocates per message.
 * `--servers` runs only the servers named (ratios need `bare`).
 * `--node-arg` passes an option to every server's `node` (e.g. `--trace-gc`, `--trace-opt`; their output goes
 * to this terminal).
 * `--defer-processing` holds Mailroom's processing back while mail arrives (processingDelayMaxMs 600 s):
 * most of it then runs after the load, though the ingest-priority gate still lets it run in pauses of the
 * load (20 ms without an arrival).
 * `--workers N` runs "mailroom" with N processing worker threads (`delivery.workers`): the SMTP thread
 * then journals and answers, the workers record and process at a lower thread priority. `--base-workers N`
 * does the same for "base".
 * `--accept-only` runs, for "mailroom" and "base", only the accept path of the pipeline: the ingress, the
 * raw store (journal, fsync before 250) and the "received" record (`recordArrival`), without end-of-DATA
 * authentication and without processing: what the SMTP thread does when processing runs elsewhere.
 *
 * Besides msgs/s it prints each server's CPU time per message (µs, user + system), which a busy machine
 * disturbs less than throughput.
 *
 * Needs `smtp-source` (Debian/Ubuntu: `apt-get install postfix`; no running Postfix is needed).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const SELF = new URL(import.meta.url).pathname;
const ROOT = dirname(dirname(SELF));

async function main() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '4' },
      messages: { type: 'string', default: '5000' },
      sessions: { type: 'string', default: '20' },
      size: { type: 'string', default: '1024' },
      'raw-only': { type: 'boolean', default: false },
      compare: { type: 'string' },
      pin: { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      'heap-prof': { type: 'string' },
      servers: { type: 'string' },
      'defer-processing': { type: 'boolean', default: false },
      'accept-only': { type: 'boolean', default: false },
      workers: { type: 'string', default: '0' },
      'base-workers': { type: 'string', default: '0' },
      'node-arg': { type: 'string', multiple: true, default: [] },
    },
  });
  let kinds = ['bare', 'mailroom'];
  if (values.compare) kinds.push('base');
  if (values['raw-only']) kinds.push('raw-only');
  if (values.servers) kinds = kinds.filter((k) => values.servers.split(',').includes(k));
  const launch = {
    pin: values.pin,
    cpuProf: values['cpu-prof'] ? resolve(values['cpu-prof']) : null,
    heapProf: values['heap-prof'] ? resolve(values['heap-prof']) : null,
    compare: values.compare ? resolve(values.compare) : null,
    mode: values['accept-only'] ? 'accept-only' : values['defer-processing'] ? 'defer' : 'alongside',
    workers: Number(values.workers),
    baseWorkers: Number(values['base-workers']),
    nodeArgs: values['node-arg'],
  };
  if (launch.pin) pinnedCpu = '1';
  const rounds = Number(values.rounds);
  const messages = Number(values.messages);
  const sessions = Number(values.sessions);
  const size = Number(values.size);
  const smtpSource = findSmtpSource();
  if (!smtpSource) {
    console.error('smtp-source not found: install Postfix (apt-get install postfix) and run again.');
    process.exit(2);
  }

  const dirs = [];
  const servers = {};
  try {
    for (const kind of kinds) {
      const dir = await mkdtemp(join(tmpdir(), `mailroom-bench-${kind}-`));
      dirs.push(dir);
      servers[kind] = await startServer(kind, dir, launch);
    }
    console.log(
      `ingest: smtp-source -s ${sessions} -m ${messages} -l ${size} -d (connection reuse), ` +
        `${rounds} rounds per server, UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}, ` +
        `data in ${tmpdir()}, ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(2)}` +
        (launch.pin ? ', servers pinned to CPU 0 and smtp-source to CPU 1' : '') +
        (launch.compare ? `, base = ${launch.compare}` : '') +
        (launch.mode === 'alongside' ? '' : `, Mailroom: ${launch.mode}`) +
        (launch.workers ? `, "mailroom" with ${launch.workers} processing worker thread(s)` : ''),
    );

    // Warm-up: JIT, page cache, first directory entries.
    for (const kind of kinds) {
      await runSource(smtpSource, servers[kind], { sessions, messages: Math.min(500, messages), size });
      await servers[kind].request('settle');
    }

    const results = Object.fromEntries(kinds.map((kind) => [kind, []]));
    const cpu = Object.fromEntries(kinds.map((kind) => [kind, { ingest: [], all: [] }]));
    // One profile per server, of its first measured run (the CPU profile when both are asked for).
    const profiling = launch.cpuProf
      ? { kind: 'cpu', dir: launch.cpuProf }
      : launch.heapProf
        ? { kind: 'heap', dir: launch.heapProf }
        : null;
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? kinds : [...kinds].reverse();
      for (const kind of order) {
        const profile = round === 0 ? profiling : null;
        if (profile) await servers[kind].request(`profile-start ${profile.kind}`);
        const before = await servers[kind].request('count');
        const seconds = await runSource(smtpSource, servers[kind], { sessions, messages, size });
        const after = await servers[kind].request('count');
        if (profile) {
          await servers[kind].request(`profile-stop ${join(profile.dir, `${kind}.${profile.kind}profile`)}`);
        }
        await servers[kind].request('settle');
        const settled = await servers[kind].request('count');
        if (after.stored - before.stored !== messages) {
          throw new Error(`${kind}: ${after.stored - before.stored} messages stored, expected ${messages}`);
        }
        results[kind].push(messages / seconds);
        cpu[kind].ingest.push((after.cpu - before.cpu) / messages);
        cpu[kind].all.push((settled.cpu - before.cpu) / messages);
      }
      console.log(
        `round ${round + 1}: ${line(Object.fromEntries(kinds.map((k) => [k, results[k].at(-1)])))}`,
      );
      console.log(
        `  ${cpuLine(
          kinds,
          (k) => cpu[k].ingest.at(-1),
          (k) => cpu[k].all.at(-1),
        )}`,
      );
    }
    console.log(
      `median:  ${line(Object.fromEntries(kinds.map((k) => [k, median(results[k])])))} (target ≥ 1.00×)`,
    );
    console.log(
      `  ${cpuLine(
        kinds,
        (k) => median(cpu[k].ingest),
        (k) => median(cpu[k].all),
      )}`,
    );
    console.log(
      `load average at the end ${loadavg()[0].toFixed(2)} (other work on the machine makes runs noisy)`,
    );
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.stop()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

/** `bare 4000 msgs/s, mailroom 4100 msgs/s, ratio 1.03×[, base 3000 msgs/s, ratio 0.75×][, raw-only …]` */
function line(rates) {
  return Object.entries(rates)
    .map(([kind, rate]) => {
      const ratio =
        rates.bare && (kind === 'mailroom' || kind === 'base')
          ? `, ratio ${(rate / rates.bare).toFixed(2)}×`
          : '';
      return `${kind} ${rate.toFixed(0)} msgs/s${ratio}`;
    })
    .join(', ');
}

/**
 * CPU time of each server process per message (user + system, µs): until the last reply of the run, and
 * in brackets until its processing had finished too. Less sensitive to a busy machine than msgs/s.
 */
function cpuLine(kinds, ingest, all) {
  const parts = kinds.map((k) => {
    const rest = all(k) - ingest(k) >= 1 ? ` (${all(k).toFixed(0)} with processing)` : '';
    return `${k} ${ingest(k).toFixed(0)}${rest}`;
  });
  return `CPU µs/msg: ${parts.join(', ')}`;
}

function findSmtpSource() {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin']) {
    if (dir && existsSync(join(dir, 'smtp-source'))) return join(dir, 'smtp-source');
  }
  try {
    return execFileSync('which', ['smtp-source'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Runs smtp-source once; resolves with the wall-clock seconds it took. */
function runSource(smtpSource, server, { sessions, messages, size }) {
  const args = [
    '-s',
    String(sessions),
    '-m',
    String(messages),
    '-l',
    String(size),
    '-d',
    '-M',
    'client.test',
    '-f',
    'sender@client.test',
    '-t',
    'support@example.com',
    `127.0.0.1:${server.port}`,
  ];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const command = pinnedCpu ? 'taskset' : smtpSource;
    const argv = pinnedCpu ? ['-c', pinnedCpu, smtpSource, ...args] : args;
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) resolve(seconds);
      else reject(new Error(`smtp-source exited with ${code ?? signal}: ${stderr.trim()}`));
    });
  });
}

/** CPU that smtp-source runs on (`--pin`), or null. */
let pinnedCpu = null;

/** Starts this script as a server process (pinned to CPU 0 with `--pin`); resolves once it listens. */
async function startServer(kind, dir, launch) {
  // Every server gets the same environment, with the thread pool size that bin/mailroom.js sets.
  const env = { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '16' };
  const root = kind === 'base' ? launch.compare : ROOT;
  const workers = kind === 'mailroom' ? launch.workers : kind === 'base' ? launch.baseWorkers : 0;
  const serverArgs = [...launch.nodeArgs, SELF, '--serve', kind, dir, root, launch.mode, String(workers)];
  // The server's log lines (Mailroom logs at info, as `mailroom smtp` does) go to a file, not the terminal.
  const log = await open(join(dir, 'bench-server.log'), 'w');
  const stdio = ['ignore', 'inherit', log.fd, 'ipc'];
  const child = launch.pin
    ? spawn('taskset', ['-c', '0', process.execPath, ...serverArgs], { stdio, env })
    : spawn(process.execPath, serverArgs, { stdio, env });
  child.once('exit', () => log.close().catch(() => {}));
  const pending = new Map();
  let seq = 0;
  const ready = new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', async (code) => {
      const tail = await readFile(join(dir, 'bench-server.log'), 'utf8').catch(() => '');
      reject(new Error(`${kind} server exited early (${code}): ${tail.slice(-2000)}`));
    });
    child.on('message', (msg) => {
      if (msg.type === 'ready') resolve(msg.port);
      else if (msg.type === 'reply') {
        pending.get(msg.seq)?.(msg.value);
        pending.delete(msg.seq);
      }
    });
  });
  const port = await ready;
  child.removeAllListeners('exit');
  return {
    port,
    request(what) {
      return new Promise((resolve) => {
        const n = ++seq;
        pending.set(n, resolve);
        child.send({ seq: n, what });
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ seq: 0, what: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Server processes

/**
 * The V8 profiler of this process's main thread, through the inspector: the CPU profiler (`--cpu-prof`) or
 * the sampling heap profiler (`--heap-prof`).
 */
const profiler = {
  session: null,
  kind: 'cpu',
  post(method, params) {
    return new Promise((resolve, reject) =>
      this.session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))),
    );
  },
  async start(kind) {
    const { Session } = await import('node:inspector');
    this.kind = kind;
    this.session = new Session();
    this.session.connect();
    if (kind === 'heap') {
      await this.post('HeapProfiler.enable');
      await this.post('HeapProfiler.startSampling', {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
      return;
    }
    await this.post('Profiler.enable');
    await this.post('Profiler.setSamplingInterval', { interval: 500 });
    await this.post('Profiler.start');
  },
  async stop(file) {
    const { profile } = await this.post(this.kind === 'heap' ? 'HeapProfiler.stopSampling' : 'Profiler.stop');
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(profile));
    this.session.disconnect();
  },
};

const SMTP_OPTIONS = {
  host: '127.0.0.1',
  port: 0,
  hostname: 'bench.mailroom.local',
  maxMessageBytes: 25 * 1024 * 1024,
  maxRecipients: 100,
  socketTimeoutMs: 60_000,
  closeTimeoutMs: 5_000,
};

async function serve(kind, dir, root, mode, workers) {
  const server =
    kind === 'bare'
      ? await bareServer(dir)
      : kind === 'raw-only'
        ? await rawOnlyServer(dir)
        : mode === 'accept-only'
          ? await acceptOnlyServer(dir, root)
          : await mailroomServer(dir, root, mode === 'defer', workers);
  const port = await server.listen();
  process.on('message', async ({ seq, what }) => {
    if (what.startsWith('profile-start')) {
      await profiler.start(what.endsWith('heap') ? 'heap' : 'cpu');
      process.send({ type: 'reply', seq, value: true });
    } else if (what.startsWith('profile-stop ')) {
      await profiler.stop(what.slice('profile-stop '.length));
      process.send({ type: 'reply', seq, value: true });
    } else if (what === 'settle') {
      await server.settle?.();
      process.send({ type: 'reply', seq, value: true });
    } else if (what === 'count') {
      const { user, system } = process.cpuUsage();
      process.send({ type: 'reply', seq, value: { stored: await server.count(), cpu: user + system } });
    } else if (what === 'stop') {
      await server.close();
      process.exit(0);
    }
  });
  process.send({ type: 'ready', port });
}

/** (a) The baseline: smtp-server, each message buffered, written to its own file and fsynced. */
async function bareServer(dir) {
  const { SMTPServer } = await import('smtp-server');
  let n = 0;
  let stored = 0;
  const server = new SMTPServer({
    name: SMTP_OPTIONS.hostname,
    size: SMTP_OPTIONS.maxMessageBytes,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideSTARTTLS: true,
    disableReverseLookup: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks = [];
      stream.on('data', (chunk) => chunks.push(chunk));
      stream.on('end', async () => {
        try {
          const file = await open(join(dir, `${session.id}-${++n}.eml`), 'w');
          await file.write(Buffer.concat(chunks));
          await file.sync();
          await file.close();
          stored++;
          callback(null, 'Ok');
        } catch (err) {
          callback(err);
        }
      });
    },
  });
  server.on('error', () => {});
  return {
    listen: () =>
      new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.server.address().port))),
    count: async () => stored,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * (b) Mailroom as `mailroom smtp` runs it (from the checkout `root`): the SMTP ingress with end-of-DATA
 * authentication (an empty static DNS zone), LocalRawStore (group-commit journal, fsync before 250), the
 * "received" record in SQLite, the console logger at info, and processing (parse, route, mailbox delivery)
 * running in the same process while the load goes on.
 */
async function mailroomServer(dir, root, deferProcessing, workers) {
  const { register } = await import('tsx/esm/api');
  register();
  const lib = (path) => import(join(root, 'lib', path));
  const { startLocalMailroom } = await lib('dev/local-mailroom.ts');
  const { loadConfig } = await lib('config/index.ts');
  const { createConsoleLogger } = await lib('cli/console-logger.ts');
  // A config file (processing workers load it themselves): the same for every mode.
  const delivery = {
    ...(deferProcessing && { processingDelayMaxMs: 600_000 }),
    ...(workers > 0 && { workers }),
  };
  const configFile = join(dir, 'mailroom.config.ts');
  await writeFile(
    configFile,
    `import { defineMailroom, mailbox } from 'mailroom';
export default defineMailroom({
  domains: ['example.com'],
  dataDir: ${JSON.stringify(dir)},
  smtp: { hostname: ${JSON.stringify(SMTP_OPTIONS.hostname)}, port: 0 },
  auth: { dns: {}, checkAtData: true },
  delivery: ${JSON.stringify(delivery)},
  routes: [{ match: 'support@example.com', action: mailbox('support') }],
});
`,
  );
  const config = await loadConfig(configFile);
  const logger = createConsoleLogger('info');
  const entry = pathToFileURL(join(root, 'lib', 'cli', 'processing-worker.ts')).href;
  const mailroom = await startLocalMailroom({
    config,
    logger,
    http: false,
    ...(workers > 0 && { workers: { size: workers, entry, configFile, dnsZone: null } }),
  });
  // Counted at the 250 (the "received" record may be written later, by a processing worker).
  let accepted = 0;
  const accept = mailroom.pipeline.accept.bind(mailroom.pipeline);
  mailroom.pipeline.accept = async (input) => {
    const result = await accept(input);
    accepted++;
    return result;
  };
  return {
    listen: async () => mailroom.smtpPort,
    count: async () => accepted,
    /** Processing goes on after the 250s; let it finish so it does not slow down the next run. */
    settle: () => mailroom.pipeline.drain(),
    close: () => mailroom.close(),
  };
}

/** (b') `--accept-only`: the ingress, storeRaw and recordArrival of the checkout `root`, nothing else. */
async function acceptOnlyServer(dir, root) {
  const { register } = await import('tsx/esm/api');
  register();
  const lib = (path) => import(join(root, 'lib', path));
  const { createSmtpIngress } = await lib('smtp/index.ts');
  const { LocalRawStore, newMessageId } = await lib('store/index.ts');
  const { SqliteMessageStore } = await lib('store/sqlite-message-store.ts');
  const { recordArrival } = await lib('pipeline/record-arrival.ts');
  const { storeRaw } = await lib('pipeline/store-raw.ts');
  const { createConsoleLogger } = await lib('cli/console-logger.ts');
  const logger = createConsoleLogger('info');
  const rawStore = new LocalRawStore(dir);
  const store = new SqliteMessageStore(join(dir, 'mailroom.db'));
  const ports = { store, logger, emit: () => {} };
  let stored = 0;
  const ingress = createSmtpIngress({
    options: SMTP_OPTIONS,
    logger,
    checkRecipient: exampleRecipient,
    async accept(input) {
      const id = newMessageId();
      const { size } = await storeRaw(rawStore, id, input, 0);
      const receivedAt = new Date().toISOString();
      await recordArrival(ports, {
        id,
        envelope: input.envelope,
        size,
        receivedAt,
        auth: input.auth ?? null,
      });
      stored++;
      return { id };
    },
  });
  return {
    listen: async () => (await ingress.listen()).port,
    count: async () => stored,
    close: async () => {
      await ingress.close();
      await rawStore.close();
      await store.close();
    },
  };
}

/** (c) Informative (--raw-only): the ingress with LocalRawStore alone, no record, no processing. */
async function rawOnlyServer(dir) {
  const { register } = await import('tsx/esm/api');
  register();
  const { createSmtpIngress } = await import('../lib/smtp/index.ts');
  const { LocalRawStore } = await import('../lib/store/local-raw-store.ts');
  const { newMessageId } = await import('../lib/store/message-id.ts');
  const store = new LocalRawStore(dir);
  let stored = 0;
  const ingress = createSmtpIngress({
    options: SMTP_OPTIONS,
    checkRecipient: exampleRecipient,
    async accept({ envelope, prefix, body }) {
      const id = newMessageId();
      await store.put(id, withPrefix(prefix, body), { envelope });
      stored++;
      return { id };
    },
  });
  return {
    listen: async () => (await ingress.listen()).port,
    count: async () => stored,
    close: async () => {
      await ingress.close();
      await store.close();
    },
  };
}

/** The RCPT policy of the Mailroom-based servers: example.com only. */
function exampleRecipient(rcpt) {
  return rcpt.toLowerCase().endsWith('@example.com')
    ? { accepted: true }
    : { accepted: false, code: 550, message: '5.7.1 Relaying denied' };
}

async function* withPrefix(prefix, body) {
  yield prefix;
  yield* body;
}

if (process.argv[2] === '--serve') {
  await serve(
    process.argv[3],
    process.argv[4],
    process.argv[5] ?? ROOT,
    process.argv[6] ?? 'alongside',
    Number(process.argv[7] ?? 0),
  );
} else {
  await main();
}
