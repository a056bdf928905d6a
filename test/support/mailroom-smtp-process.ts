import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { mailroomBin, projectRoot } from './mailroom-process.ts';

/** `mailroom smtp` (local mode: disk + SQLite, processing in the same process) as a real child process. */
export interface SmtpProcess {
  child: ChildProcess;
  port: number;
  dataDir: string;
  stderr: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  /** True while the process has not exited. */
  alive(): boolean;
  /** Peak resident set size so far (VmHWM), in MiB. */
  peakRssMiB(): number;
  /** Current resident set size (VmRSS), in MiB. */
  rssMiB(): number;
  /** Status of each stored message, read from the SQLite record (read-only). */
  statuses(): Map<string, string>;
  stop(): Promise<number | string>;
}

export async function startSmtpProcess(
  opts: { config?: string; env?: Record<string, string>; args?: string[] } = {},
): Promise<SmtpProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mailroom-smtp-proc-'));
  const config = opts.config ?? join(projectRoot, 'examples/mailroom.config.ts');
  const child = spawn(
    process.execPath,
    [mailroomBin, 'smtp', '--config', config, '--port', '0', '--data', dataDir, ...(opts.args ?? [])],
    {
      cwd: projectRoot,
      env: {
        ...process.env,
        MAILROOM_LOG_LEVEL: 'warn',
        MAILROOM_REPLY_KEY: randomBytes(32).toString('base64url'),
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.on('data', (d) => {
    err += d;
    if (err.length > 1_000_000) err = err.slice(-500_000);
  });
  child.stdout!.resume();
  let exitedYet = false;
  const exited = new Promise<number | string>((r) =>
    child.once('exit', (code, signal) => {
      exitedYet = true;
      r(code ?? signal ?? -1);
    }),
  );
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`mailroom smtp did not start:\n${err}`)), 60_000);
    const onData = () => {
      const m = err.match(/SMTP on [^:\s]+:(\d+)/);
      if (m) {
        clearTimeout(timer);
        child.stderr!.off('data', onData);
        resolvePort(Number(m[1]));
      }
    };
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`mailroom smtp exited (${code}) before listening:\n${err}`));
    });
  });
  const procStatus = (field: string) => {
    const m = readFileSync(`/proc/${child.pid}/status`, 'utf8').match(
      new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'),
    );
    return m ? Number(m[1]) / 1024 : Number.NaN;
  };
  return {
    child,
    port,
    dataDir,
    stderr: () => err,
    exited,
    alive: () => !exitedYet,
    peakRssMiB: () => procStatus('VmHWM'),
    rssMiB: () => procStatus('VmRSS'),
    statuses() {
      const db = new Database(join(dataDir, 'mailroom.db'), { readonly: true, fileMustExist: true });
      try {
        const rows = db.prepare('SELECT id, status FROM messages').all() as Array<{
          id: string;
          status: string;
        }>;
        return new Map(rows.map((r) => [r.id, r.status]));
      } finally {
        db.close();
      }
    },
    async stop() {
      if (!exitedYet) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** A socket from `localAddress` (any 127.x.y.z works on Linux loopback), once connected. */
export async function connectFrom(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** What a well-behaved sender saw while the server was under attack. */
export interface ProbeResult {
  greetingMs: number;
  acceptedMs: number;
  reply: string;
  id: string;
}

/**
 * A well-behaved client: connects from `localAddress`, and sends one short message to support@, the way
 * a real MTA does (EHLO, MAIL, RCPT, DATA, one command at a time). Rejects on a reply it did not expect.
 */
export async function probe(port: number, localAddress: string, tag: string): Promise<ProbeResult> {
  const started = performance.now();
  const socket = await connectFrom(port, localAddress);
  let buffer = '';
  const waiters: Array<(line: string) => void> = [];
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    buffer += d;
    for (let nl = buffer.indexOf('\r\n'); nl >= 0; nl = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 2);
      if (/^\d{3} /.test(line)) waiters.shift()?.(line);
    }
  });
  const closed = new Promise<never>((_r, reject) =>
    socket.once('close', () => reject(new Error(`probe ${tag}: connection closed`))),
  );
  closed.catch(() => {});
  const next = () => Promise.race([new Promise<string>((r) => waiters.push(r)), closed]);
  const expect = async (line: string | null, code: string) => {
    if (line !== null) socket.write(`${line}\r\n`);
    const reply = await next();
    if (!reply.startsWith(code)) throw new Error(`probe ${tag}: ${line ?? 'greeting'} → ${reply}`);
    return reply;
  };
  try {
    await expect(null, '220');
    const greetingMs = performance.now() - started;
    await expect('EHLO probe.test', '250');
    await expect('MAIL FROM:<probe@sender.test>', '250');
    await expect('RCPT TO:<support@example.com>', '250');
    await expect('DATA', '354');
    const reply = await expect(
      `From: probe@sender.test\r\nTo: support@example.com\r\nSubject: probe ${tag}\r\n\r\nStill there?\r\n.`,
      '250',
    );
    const acceptedMs = performance.now() - started;
    socket.write('QUIT\r\n');
    const id = reply.match(/queued as (\S+)/)?.[1] ?? '';
    return { greetingMs, acceptedMs, reply, id };
  } finally {
    setTimeout(() => socket.destroy(), 200).unref();
  }
}
