/**
 * `npm run bench`: one run drives, side by side, smtp-sink, bare smtp-server (discard / fsync), Haraka,
 * Postfix and `mailroom smtp`, each pinned to core 0 with the client on core 1; then processing against
 * mailparser, latency under a fixed rate and a rate sweep, and the S3 mode. Writes
 * bench/results/<timestamp>.json, latest.md and latest.svg. See README "Benchmarks" and `--help`.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { type BenchOptions, BenchUsageError, messagesFor, parseBenchArgs, USAGE } from './args.ts';
import { cachedHarakaVersion, ensureHaraka, startHaraka } from './haraka.ts';
import { findKnee, ProcessedEvents, runLatencyStep, WARM_UP_SECONDS } from './latency.ts';
import { REPO, startMailroomDev, startMailroomS3, startMailroomSmtp } from './mailroom.ts';
import { postfixUnavailable, postfixVersion, startPostfix } from './postfix.ts';
import { runProcessing } from './processing.ts';
import { CLOCK_TICKS, findCommand, freePort, pinSelf, stopAll, treeCpuTicks } from './procs.ts';
import { renderMarkdown, renderSvg, renderText, sizeLabel } from './render.ts';
import { startS3rver } from './s3.ts';
import type { BenchServer } from './server.ts';
import { startBare, startSmtpSink } from './simple-servers.ts';
import { runSource } from './smtp-source.ts';
import { abba, median } from './stats.ts';
import {
  type BenchResults,
  INGEST_WARM_UP_MESSAGES,
  type IngestCell,
  type LatencyResult,
  type LatencyStep,
  type S3Result,
  type ServerName,
} from './types.ts';

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Things to stop at the end, also on failure and Ctrl-C (Postfix runs outside our process groups). */
const running = new Set<BenchServer>();

async function stopRunning(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop().catch(() => {})));
  running.clear();
  await stopAll();
}

async function startServer(name: ServerName, notices: string[]): Promise<BenchServer | null> {
  try {
    switch (name) {
      case 'smtp-sink':
        return await startSmtpSink();
      case 'bare-discard':
        return await startBare('discard');
      case 'bare-fsync':
        return await startBare('fsync');
      case 'haraka':
        await ensureHaraka(log);
        return await startHaraka();
      case 'postfix': {
        const why = postfixUnavailable();
        if (why) throw new Error(why);
        return await startPostfix();
      }
      case 'mailroom':
        return await startMailroomSmtp();
      case 'mailroom-1w':
        return await startMailroomSmtp(1);
    }
  } catch (err) {
    notices.push(`${name} skipped: ${err instanceof Error ? err.message : String(err)}`);
    log(`notice: ${notices.at(-1)}`);
    return null;
  }
}

/**
 * One run of smtp-source: the rate and the CPU per message (µs; null when the server's processes are not
 * known), or the failure's text.
 */
async function measure(
  server: BenchServer,
  cell: IngestCell,
): Promise<{ rate: number; cpu: number | null } | string> {
  const before = await server.count();
  const ticks = () => (server.pid === null ? null : treeCpuTicks(server.pid));
  const cpuBefore = ticks();
  try {
    const seconds = await runSource(server.port, cell);
    await server.settle();
    const cpuAfter = ticks();
    const after = await server.count();
    if (before !== null && after !== null && after - before !== cell.messages) {
      return `${cell.server} counted ${after - before} messages, smtp-source sent ${cell.messages}`;
    }
    const cpu =
      cpuBefore === null || cpuAfter === null
        ? null
        : ((cpuAfter - cpuBefore) * 1e6) / CLOCK_TICKS / cell.messages;
    return { rate: cell.messages / seconds, cpu };
  } catch (err) {
    await server.settle();
    return err instanceof Error ? err.message : String(err);
  }
}

async function runIngest(options: BenchOptions, notices: string[]): Promise<IngestCell[]> {
  if (!findCommand('smtp-source')) {
    notices.push('ingest skipped: smtp-source not found (apt-get install postfix)');
    return [];
  }
  const servers = new Map<ServerName, BenchServer>();
  for (const name of options.servers) {
    log(`starting ${name} …`);
    const server = await startServer(name, notices);
    if (server) {
      servers.set(name, server);
      running.add(server);
    }
  }
  const names = [...servers.keys()];
  log(`warm-up: ${INGEST_WARM_UP_MESSAGES} messages each on ${names.join(', ')}`);
  for (const name of names) {
    await runSource(servers.get(name)!.port, {
      sessions: 20,
      messages: INGEST_WARM_UP_MESSAGES,
      size: 1024,
      mode: 'reuse',
    }).catch((err: Error) => log(`warm-up of ${name} failed: ${err.message}`));
    await servers.get(name)!.settle();
  }
  const cells: IngestCell[] = [];
  for (const mode of options.modes) {
    for (const size of options.sizes) {
      for (const sessions of options.sessions) {
        const group = names.map((server) => ({
          server,
          sessions,
          size,
          mode,
          messages: messagesFor(options, size, mode, sessions),
          rates: [] as number[],
          cpu: [] as number[],
          failures: [] as string[],
        }));
        for (let round = 0; round < options.rounds; round++) {
          for (const cell of abba(group, round)) {
            const result = await measure(servers.get(cell.server)!, cell);
            if (typeof result === 'string') cell.failures.push(result);
            else {
              cell.rates.push(result.rate);
              if (result.cpu !== null) cell.cpu.push(result.cpu);
            }
          }
        }
        log(
          `${sessions} session(s), ${sizeLabel(size)}, ${mode}: ` +
            group.map((c) => `${c.server} ${median(c.rates)?.toFixed(0) ?? 'failed'}`).join(', '),
        );
        cells.push(...group);
      }
    }
  }
  for (const server of servers.values()) {
    await server.stop();
    running.delete(server);
  }
  for (const c of cells) for (const f of c.failures) notices.push(`failed run (${c.server}): ${f}`);
  return cells;
}

/** The processing threads of the latency server: 1, as `mailroom dev` runs by default. */
const LATENCY_WORKERS = 1;

async function runLatency(options: BenchOptions): Promise<LatencyResult> {
  const { steady, sweep } = await latencyServer(options, LATENCY_WORKERS, options.sweepRates);
  log('latency: the steady step again with processing on the SMTP thread (delivery.workers 0)');
  const { steady: steadyWorkers0 } = await latencyServer(options, 0, []);
  return { workers: LATENCY_WORKERS, steady, steadyWorkers0, sweep, knee: findKnee(sweep) };
}

/** One `mailroom dev` with `workers` processing threads: the warm-up, the steady step, then `sweepRates`. */
async function latencyServer(
  options: BenchOptions,
  workers: number,
  sweepRates: readonly number[],
): Promise<{ steady: LatencyStep; sweep: LatencyStep[] }> {
  const server = await startMailroomDev(await freePort(), workers);
  running.add(server);
  const events = new ProcessedEvents();
  try {
    await events.open(server.httpPort!);
    // Steady state, not start-up: V8 has not optimised the hot paths yet, and SQLite's WAL file grows to its
    // working size (later checkpoints reuse it) during the first few hundred messages.
    const warmRate = Math.max(1, Math.round(options.latencyRate / 2));
    log(`latency (workers ${workers}): warm-up ${WARM_UP_SECONDS} s at ${warmRate} msg/s (not measured)`);
    await runLatencyStep(server.port, events, {
      rate: warmRate,
      seconds: WARM_UP_SECONDS,
      sessions: 20,
      drainLimitSeconds: 30,
    });
    log(`latency (workers ${workers}): ${options.latencyRate} msg/s for ${options.latencySeconds} s`);
    const steady = await runLatencyStep(server.port, events, {
      rate: options.latencyRate,
      seconds: options.latencySeconds,
      sessions: 20,
      drainLimitSeconds: 30,
    });
    const sweep = [];
    for (const rate of sweepRates) {
      log(`latency sweep (workers ${workers}): ${rate} msg/s for ${options.sweepSeconds} s`);
      sweep.push(
        await runLatencyStep(server.port, events, {
          rate,
          seconds: options.sweepSeconds,
          sessions: 20,
          drainLimitSeconds: 20,
        }),
      );
    }
    return { steady, sweep };
  } finally {
    await events.close();
    await server.stop();
    running.delete(server);
  }
}

async function runS3(options: BenchOptions): Promise<S3Result> {
  const s3rver = await startS3rver();
  const result: S3Result = {
    messages: options.messages,
    sessions: 20,
    size: 1024,
    mailroomS3: [],
    bareDiscard: [],
    failures: [],
  };
  try {
    const mailroom = await startMailroomS3(s3rver.endpoint, 'mailroom-bench-raw');
    running.add(mailroom);
    const bare = await startBare('discard');
    running.add(bare);
    const run = { sessions: 20, messages: options.messages, size: 1024, mode: 'reuse' as const };
    for (const s of [mailroom, bare]) await runSource(s.port, { ...run, messages: 200 }).catch(() => {});
    for (let round = 0; round < options.rounds; round++) {
      for (const side of abba(['mailroom', 'bare'] as const, round)) {
        const server = side === 'mailroom' ? mailroom : bare;
        try {
          const seconds = await runSource(server.port, run);
          (side === 'mailroom' ? result.mailroomS3 : result.bareDiscard).push(run.messages / seconds);
        } catch (err) {
          result.failures.push(`${side}: ${err instanceof Error ? err.message : String(err)}`);
        }
        await server.settle();
      }
    }
  } finally {
    await stopRunning();
    await s3rver.stop();
  }
  return result;
}

function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

async function part<T>(name: string, notices: string[], run: () => Promise<T>): Promise<T | null> {
  try {
    return await run();
  } catch (err) {
    notices.push(`${name} failed: ${err instanceof Error ? err.message : String(err)}`);
    log(`notice: ${notices.at(-1)}`);
    await stopRunning();
    return null;
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const options = parseBenchArgs(argv);
  const notices: string[] = [];
  if (!pinSelf(1)) notices.push('taskset unavailable: nothing is pinned, figures mix client and server CPU');
  const startedAt = new Date();
  const loadAverageStart = loadavg();
  const has = (p: string) => options.parts.includes(p as BenchOptions['parts'][number]);
  const ingest = has('ingest')
    ? ((await part('ingest', notices, () => runIngest(options, notices))) ?? [])
    : [];
  const processing = has('processing')
    ? await part('processing', notices, () => {
        log(`processing: ${options.processingMessages} messages, ${options.rounds} rounds`);
        return runProcessing(options.processingMessages, options.rounds);
      })
    : null;
  const latency = has('latency') ? await part('latency', notices, () => runLatency(options)) : null;
  const s3 = has('s3')
    ? await part('s3', notices, () => {
        log('s3: mailroom smtp --s3-bucket against s3rver, and bare-discard');
        return runS3(options);
      })
    : null;
  const results: BenchResults = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      loadAverageStart,
      loadAverageEnd: loadavg(),
      platform: `${process.platform} ${process.arch}`,
      node: process.version,
      haraka: cachedHarakaVersion(),
      postfix: await postfixVersion(),
      mailroomCommit: gitCommit(),
    },
    notices,
    ingest,
    processing,
    latency,
    s3,
  };
  const out = resolve(REPO, options.out);
  await mkdir(out, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  await writeFile(join(out, `${stamp}.json`), `${JSON.stringify(results, null, 2)}\n`);
  const markdown = renderMarkdown(results);
  await writeFile(join(out, 'latest.md'), markdown);
  await writeFile(
    join(out, 'latest.svg'),
    renderSvg(ingest, `Ingest msg/s, one core each — ${results.startedAt}`),
  );
  if (ingest.length) process.stdout.write(`\n${renderText(ingest)}\n`);
  process.stdout.write(`\n${markdown}\nwritten: ${join(out, `${stamp}.json`)}, latest.md, latest.svg\n`);
  return 0;
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${signal}: stopping every server …`);
    void stopRunning().finally(() => process.exit(130));
  });
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (err instanceof BenchUsageError) {
    log(`${err.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else {
    log(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 1;
  }
} finally {
  await stopRunning();
}
