/**
 * Real rspamd and clamd for the scan tests: each started on a free 127.0.0.1 port from a temporary
 * directory (its own config, database and pid files; nothing downloaded, no system service touched) and
 * stopped by the test. ClamAV knows only EICAR, from a signature made with `sigtool --md5`; rspamd answers
 * GTUBE with `reject` out of the box. Where a binary is missing, `scanDaemonsMissing()` says which, and the
 * tests skip with a printed notice (`.ci/run` installs them).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';

/** The EICAR test file (https://www.eicar.org/download-anti-malware-testfile/). */
export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!H+H*';
/** rspamd's (and SpamAssassin's) GTUBE line: such a message is always spam. */
export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

const SEARCH = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin', '/sbin'];
function which(name: string): string | null {
  for (const dir of SEARCH) {
    const path = join(dir, name);
    if (dir && existsSync(path)) return path;
  }
  return null;
}

/** The binaries the scan tests need that are not installed (empty when all are). */
export function scanDaemonsMissing(): string[] {
  return ['rspamd', 'clamd', 'sigtool'].filter((name) => which(name) === null);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface Daemon {
  readonly port: number;
  readonly dir: string;
  /** The unix socket clamd also listens on (clamd only). */
  readonly socket?: string;
  /** Stops the daemon (SIGTERM, then SIGKILL) and waits for it to exit. */
  stop(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

async function waitUntil(
  ready: () => Promise<boolean>,
  child: ChildProcess,
  what: string,
  log: () => string,
) {
  // clamd loads its signatures and rspamd its maps on start: minutes on a loaded 2-core machine.
  for (let i = 0; i < 1800; i++) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited while starting (${child.exitCode ?? child.signalCode}):\n${log()}`);
    }
    if (await ready().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`${what} did not start within 180 s:\n${log()}`);
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
}

function collect(child: ChildProcess): () => string {
  let out = '';
  const add = (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-8000);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => out;
}

/**
 * rspamd with only its normal worker (no controller, proxy or fuzzy) on a free port, the system's rules
 * (`$CONFDIR`), and DNS pointed at a closed port so that nothing leaves the machine.
 */
export async function startRspamd(): Promise<Daemon> {
  const dir = await mkdtemp(join(tmpdir(), 'mailroom-rspamd-'));
  const port = await freePort();
  await mkdir(join(dir, 'db'));
  await mkdir(join(dir, 'run'));
  await mkdir(join(dir, 'local'));
  const config = join(dir, 'rspamd.conf');
  await writeFile(
    config,
    `.include "$CONFDIR/common.conf"
options {
  pidfile = "$RUNDIR/rspamd.pid";
  .include "$CONFDIR/options.inc"
  dns { nameserver = ["127.0.0.1:9"]; timeout = 0.1s; retransmits = 0; }
}
logging { type = "console"; level = "error"; }
worker "normal" {
  bind_socket = "127.0.0.1:${port}";
  count = 1;
  .include "$CONFDIR/worker-normal.inc"
}
`,
  );
  const user = userInfo();
  const group = execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim();
  const args = ['-f', '-c', config, '-u', user.username, '-g', group];
  if (user.uid === 0) args.push('-i'); // workers as root: allowed for a test instance only
  for (const [name, value] of [
    ['DBDIR', join(dir, 'db')],
    ['RUNDIR', join(dir, 'run')],
    ['LOCAL_CONFDIR', join(dir, 'local')],
    ['LOGDIR', dir],
  ]) {
    args.push(`--var=${name}=${value}`);
  }
  const child = spawn(which('rspamd') ?? 'rspamd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return started(child, 'rspamd', { port, dir }, async () => {
    return (await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(1000) })).ok;
  });
}

/** clamd on a free port and a unix socket, whose only signature is EICAR's (`sigtool --md5`). */
export async function startClamd(): Promise<Daemon> {
  const dir = await mkdtemp(join(tmpdir(), 'mailroom-clamd-'));
  const port = await freePort();
  const db = join(dir, 'db');
  await mkdir(db);
  await writeFile(join(dir, 'eicar.com'), EICAR);
  const signature = execFileSync(which('sigtool') ?? 'sigtool', ['--md5', 'eicar.com'], {
    cwd: dir,
    encoding: 'utf8',
  });
  await writeFile(join(db, 'test.hdb'), signature);
  const socket = join(dir, 'clamd.sock');
  const config = join(dir, 'clamd.conf');
  const lines = [
    `DatabaseDirectory ${db}`,
    'TCPAddr 127.0.0.1',
    `TCPSocket ${port}`,
    `LocalSocket ${socket}`,
    'Foreground yes',
    `PidFile ${join(dir, 'clamd.pid')}`,
    `TemporaryDirectory ${dir}`,
    `LogFile ${join(dir, 'clamd.log')}`,
  ];
  if (userInfo().uid === 0) lines.push('User root');
  await writeFile(config, `${lines.join('\n')}\n`);
  const child = spawn(which('clamd') ?? 'clamd', ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  return started(child, 'clamd', { port, dir, socket }, () => ping(port));
}

/**
 * Waits until the daemon answers `ready`; a daemon that does not is stopped and its folder removed. The
 * daemon's `dispose` does the same once the test is done.
 */
async function started(
  child: ChildProcess,
  what: string,
  where: { port: number; dir: string; socket?: string },
  ready: () => Promise<boolean>,
): Promise<Daemon> {
  const stop = stopper(child);
  const dispose = async () => {
    await stop();
    await rm(where.dir, { recursive: true, force: true });
  };
  await waitUntil(ready, child, what, collect(child)).catch(async (err) => {
    await dispose();
    throw err;
  });
  return { ...where, stop, dispose };
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write('zPING\0'));
    let reply = '';
    s.setTimeout(1000, () => s.destroy());
    s.on('data', (d) => {
      reply += d.toString('latin1');
    });
    s.on('error', () => resolve(false));
    s.on('close', () => resolve(reply.startsWith('PONG')));
  });
}
