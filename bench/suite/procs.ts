import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

/** Every child this run started (its own process group), so that a failure or Ctrl-C stops them all. */
const started = new Set<ChildProcess>();

/** A command found on PATH or in the sbin directories (Postfix's tools live in /usr/sbin). */
export function findCommand(name: string): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin', '/sbin']) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** Pins this process (all its threads) to `core`; false when `taskset` is missing or refuses. */
export function pinSelf(core: number): boolean {
  const taskset = findCommand('taskset');
  if (!taskset) return false;
  try {
    execFileSync(taskset, ['-a', '-p', '-c', String(core), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `command` pinned to `core` (`taskset -c`, which execs it: the pid is the command's) in a process
 * group of its own, remembered for {@link stopAll}.
 */
export function spawnPinned(
  core: number,
  command: string,
  args: string[],
  options: SpawnOptions = {},
): ChildProcess {
  const taskset = findCommand('taskset');
  const [file, argv] = taskset ? [taskset, ['-c', String(core), command, ...args]] : [command, args];
  const child = spawn(file, argv, { stdio: ['ignore', 'ignore', 'pipe'], ...options, detached: true });
  started.add(child);
  child.once('exit', () => started.delete(child));
  child.once('error', () => started.delete(child));
  return child;
}

/** SIGTERM to the child's process group, SIGKILL after `graceMs`; resolves once the child exited. */
export async function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalGroup(child.pid, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
  // Grandchildren (Haraka's worker, Postfix's daemons) share the group: make sure none is left.
  signalGroup(child.pid, 'SIGKILL');
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Stops every child still running (last resort on failure or Ctrl-C). */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((child) => stopChild(child, 2_000)));
}

/** A free TCP port on 127.0.0.1 (closed again: a server started right after binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once an SMTP server on 127.0.0.1:port sends its 220 greeting; rejects after `timeoutMs`. */
export async function waitForGreeting(port: number, timeoutMs = 60_000, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before listening`);
    if (await greets(port)) return;
    await sleep(200);
  }
  throw new Error(`no SMTP greeting on 127.0.0.1:${port} after ${timeoutMs / 1000} s`);
}

function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(3_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('data', (d) => {
      text += d;
      if (/^220[ -]/.test(text) && text.includes('\n')) {
        socket.end('QUIT\r\n');
        done(true);
      } else if (text.includes('\n')) done(false);
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The fields of /proc/<pid>/stat after the command name (state, ppid, …); null when it is gone. */
function statFields(pid: number | string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** CPU ticks (user + system, all threads) a process has used so far; null when it is gone. */
export function cpuTicks(pid: number): number | null {
  const f = statFields(pid);
  return f ? Number(f[11]) + Number(f[12]) : null;
}

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 on Linux). */
export const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU ticks used so far by a process and everything it started: its own (all threads), its children's that
 * it has waited for (cutime, cstime), and those of its live descendants, counted the same way. A child that
 * ends between two readings moves from the live ones to its parent's waited-for ones, so a difference of two
 * readings counts it once. Null when the process is gone.
 */
export function treeCpuTicks(pid: number): number | null {
  const procs = new Map<number, { ppid: number; ticks: number }>();
  for (const name of readdirSync('/proc')) {
    const f = /^\d+$/.test(name) ? statFields(name) : null; // null also for one gone meanwhile
    if (f) procs.set(Number(name), { ppid: Number(f[1]), ticks: +f[11]! + +f[12]! + +f[13]! + +f[14]! });
  }
  if (!procs.has(pid)) return null;
  const children = new Map<number, number[]>();
  for (const [child, { ppid }] of procs) {
    const siblings = children.get(ppid);
    if (siblings) siblings.push(child);
    else children.set(ppid, [child]);
  }
  let ticks = 0;
  const todo = [pid];
  while (todo.length > 0) {
    const next = todo.pop()!;
    ticks += procs.get(next)!.ticks;
    todo.push(...(children.get(next) ?? []));
  }
  return ticks;
}

/**
 * Waits until `pid` is idle (used under 2 ticks in each of two 250 ms windows), at most `limitMs`: a
 * server that goes on working after its 250s (Mailroom processing its backlog) must not slow down the
 * next server's run.
 */
export async function settleCpu(pid: number, limitMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + limitMs;
  let quiet = 0;
  let last = cpuTicks(pid);
  while (last !== null && Date.now() < deadline) {
    await sleep(250);
    const now = cpuTicks(pid);
    if (now === null) return true;
    quiet = now - last < 2 ? quiet + 1 : 0;
    if (quiet >= 2) return true;
    last = now;
  }
  return last === null;
}

/** Collects a child's stderr (the last 64 KB) for error messages and start-up lines. */
export function captureStderr(child: ChildProcess): { text: () => string } {
  let text = '';
  child.stderr?.on('data', (d: Buffer) => {
    text = (text + d.toString()).slice(-65_536);
  });
  return { text: () => text };
}
