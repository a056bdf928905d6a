import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { captureStderr, settleCpu, sleep, spawnPinned } from './procs.ts';
import { type BenchServer, stopper } from './server.ts';

export const REPO = resolve(import.meta.dirname, '..', '..');
const BIN = join(REPO, 'bin', 'mailroom.js');

/**
 * The config every Mailroom run of the bench uses: one mailbox route, authentication at the end of DATA
 * (`mailroom smtp`'s default, said out loud so `mailroom dev` does the same); with `--dns` pointing at an
 * empty zone, every SPF/DKIM/DMARC question is answered "nothing there" without real DNS. The greeting
 * goes out at once (`greetingDelayMs: 0`, no early-talker pause), as Haraka's (queue/discard, no
 * early_talker plugin) and Postfix's (smtpd without postscreen) do; the default 100 ms would cap every
 * new-connection session at 10 msg/s.
 */
export const BENCH_CONFIG = benchConfig(0);

/**
 * {@link BENCH_CONFIG} with `delivery.workers` processing threads, always said out loud (the default is 1):
 * the `mailroom` row runs 0 (processing on the SMTP thread), the `mailroom-1w` row 1 (the SMTP thread
 * journals and answers; the thread records and processes at a lower priority).
 */
export function benchConfig(workers: number): string {
  return `import { defineMailroom, mailbox } from 'mailroom';

export default defineMailroom({
  domains: ['example.com'],
  smtp: { greetingDelayMs: 0 },
  auth: { checkAtData: true },
  delivery: { workers: ${workers} },
  routes: [{ name: 'support', match: 'support@example.com', action: mailbox('support') }],
});
`;
}

export interface MailroomFiles {
  dir: string;
  config: string;
  zone: string;
  data: string;
}

/** A temporary directory with the bench config, an empty DNS zone and a data directory. */
export async function mailroomFiles(kind: string, workers = 0): Promise<MailroomFiles> {
  const dir = await mkdtemp(join(tmpdir(), `mailroom-bench-${kind}-`));
  const config = join(dir, 'mailroom.config.ts');
  const zone = join(dir, 'zone.json');
  await writeFile(config, benchConfig(workers));
  await writeFile(zone, '{}\n');
  return { dir, config, zone, data: join(dir, 'data') };
}

/** `--config`, `--dns` and `--data` of a bench run's files. */
function fileArgs(files: MailroomFiles): string[] {
  return ['--config', files.config, '--dns', files.zone, '--data', files.data];
}

export interface MailroomProcess extends BenchServer {
  /** The HTTP API's port (`mailroom dev` only). */
  readonly httpPort: number | null;
}

/**
 * Starts `node bin/mailroom.js <args>` pinned to core 0 and waits for its start-up line
 * (`mailroom smtp: SMTP on 127.0.0.1:<port>` / `mailroom dev: SMTP on …, web UI and API on http://…:<port>/`).
 */
async function startMailroomCommand(
  files: MailroomFiles,
  args: string[],
  env: Record<string, string> = {},
): Promise<MailroomProcess> {
  const child = spawnPinned(0, process.execPath, [BIN, ...args], {
    cwd: files.dir,
    env: { ...process.env, ...env },
  });
  const err = captureStderr(child);
  const stop = stopper(child, files.dir);
  const deadline = Date.now() + 90_000;
  let match: RegExpMatchArray | null = null;
  while (!match) {
    match = err.text().match(/SMTP on [^:\s]+:(\d+)(?:.*?http:\/\/[^:]+:(\d+))?/);
    if (match) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(
        `mailroom ${args[0]} did not start: ${err.text().trim().split('\n').slice(-3).join(' ')}`,
      );
    }
    await sleep(100);
  }
  return {
    port: Number(match[1]),
    httpPort: match[2] ? Number(match[2]) : null,
    pid: child.pid ?? null,
    count: async () => null,
    // Processing goes on after the 250s: let it finish so that it does not slow down the next run.
    settle: async () => {
      if (child.pid) await settleCpu(child.pid, 120_000);
    },
    stop,
  };
}

/**
 * `mailroom smtp` storing on disk and processing here (the production ingress without S3); with `workers`,
 * in that many processing threads (`delivery.workers`).
 */
export async function startMailroomSmtp(workers = 0): Promise<MailroomProcess> {
  const files = await mailroomFiles('smtp', workers);
  return startMailroomCommand(files, ['smtp', ...fileArgs(files), '--host', '127.0.0.1', '--port', '0']);
}

/** `mailroom dev` (the HTTP API's event stream tells when each message is processed). */
export async function startMailroomDev(httpPort: number, workers: number): Promise<MailroomProcess> {
  const files = await mailroomFiles('dev', workers);
  return startMailroomCommand(
    files,
    ['dev', ...fileArgs(files), '--smtp-port', '0', '--http-port', String(httpPort)],
    { MAILROOM_LOG_LEVEL: process.env.MAILROOM_LOG_LEVEL ?? 'warn' },
  );
}

/** `mailroom smtp --s3-bucket` against an S3 emulator (s3rver's credentials). */
export async function startMailroomS3(endpoint: string, bucket: string): Promise<MailroomProcess> {
  const files = await mailroomFiles('smtp-s3');
  return startMailroomCommand(
    files,
    [
      'smtp',
      ...fileArgs(files),
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--s3-bucket',
      bucket,
      '--s3-endpoint',
      endpoint,
    ],
    {
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      POWERTOOLS_METRICS_DISABLED: 'true',
    },
  );
}
