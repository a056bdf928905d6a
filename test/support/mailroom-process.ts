import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const projectRoot = resolve(import.meta.dirname, '../..');
export const mailroomBin = join(projectRoot, 'bin/mailroom.js');

export interface MailroomProcess {
  child: ChildProcess;
  smtpPort: number;
  httpPort: number;
  dataDir: string;
  api: string;
  stderr: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Starts `mailroom dev` as a real child process on ephemeral ports and waits until it listens. */
export async function startMailroomProcess(opts: {
  config?: string;
  dataDir?: string;
  env?: Record<string, string>;
}): Promise<MailroomProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'mailroom-e2e-'));
  const config = opts.config ?? join(projectRoot, 'examples/mailroom.config.ts');
  const child = spawn(
    process.execPath,
    [mailroomBin, 'dev', '--config', config, '--smtp-port', '0', '--http-port', '0', '--data', dataDir],
    {
      cwd: projectRoot,
      env: { ...process.env, MAILROOM_LOG_LEVEL: 'warn', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
  });
  child.stdout!.resume();
  const exited = new Promise<number | string>((r) =>
    child.once('exit', (code, signal) => r(code ?? signal ?? -1)),
  );
  const ports = await new Promise<{ smtp: number; http: number }>((resolvePorts, reject) => {
    const timer = setTimeout(() => reject(new Error(`mailroom dev did not start:\n${err}`)), 20_000);
    const onData = () => {
      const m = err.match(/SMTP on [^:]+:(\d+), web UI and API on http:\/\/[^:]+:(\d+)\//);
      if (m) {
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        resolvePorts({ smtp: Number(m[1]), http: Number(m[2]) });
      }
    };
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`mailroom dev exited (${code}) before listening:\n${err}`));
    });
  });
  return {
    child,
    smtpPort: ports.smtp,
    httpPort: ports.http,
    dataDir,
    api: `http://127.0.0.1:${ports.http}`,
    stderr: () => err,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Polls `fn` until it returns a truthy value (a wait for asynchronous processing, not a timing assertion). */
export async function waitFor<T>(
  fn: () => Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export async function getJson<T = unknown>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
  return (await res.json()) as T;
}
