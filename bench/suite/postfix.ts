import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findCommand, freePort, sleep, waitForGreeting } from './procs.ts';
import type { BenchServer } from './server.ts';

const run = promisify(execFile);

/** Postfix's version (`postconf -h mail_version`), or null without Postfix. */
export async function postfixVersion(): Promise<string | null> {
  const postconf = findCommand('postconf');
  if (!postconf) return null;
  try {
    return (await run(postconf, ['-h', 'mail_version'])).stdout.trim();
  } catch {
    return null;
  }
}

/** The daemons a discard-only instance needs (no chroot: the queue is a temporary directory). */
const MASTER_CF = `
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;

/** main.cf of the private instance: loopback only, everything to the discard transport. */
export function postfixMainCf(dir: string): string {
  return [
    'compatibility_level = 3.6',
    `queue_directory = ${dir}/queue`,
    `data_directory = ${dir}/data`,
    'mail_owner = postfix',
    'setgid_group = postdrop',
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    'mynetworks = 127.0.0.0/8',
    'mydestination =',
    'myhostname = bench.mailroom.local',
    'default_transport = discard',
    'relay_transport = discard',
    'local_transport = discard',
    'smtpd_relay_restrictions = permit_mynetworks, reject',
    'smtpd_recipient_restrictions = permit_mynetworks, reject',
    'syslog_name = postfix-mailroom-bench',
    `maillog_file = ${dir}/data/maillog`,
    `maillog_file_prefixes = ${dir}`,
    '',
  ].join('\n');
}

/**
 * Why a private Postfix instance cannot run here, or null when it can: `postfix start` must run as root
 * (the master daemon hands work to daemons running as `mail_owner`), and the `postfix` user must exist.
 */
export function postfixUnavailable(): string | null {
  if (!findCommand('postfix')) return 'postfix is not installed (apt-get install postfix)';
  if (userInfo().uid !== 0)
    return 'a private Postfix instance needs root (`postfix start` refuses otherwise)';
  try {
    if (
      !readFileSync('/etc/passwd', 'utf8')
        .split('\n')
        .some((l) => l.startsWith('postfix:'))
    ) {
      return 'there is no postfix user';
    }
  } catch {
    return '/etc/passwd is unreadable';
  }
  return null;
}

function uidOf(user: string): number {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  return Number(line?.split(':')[2]);
}

function maillogTail(dir: string): string {
  try {
    return readFileSync(join(dir, 'data', 'maillog'), 'utf8')
      .trim()
      .split('\n')
      .slice(-2)
      .join(' ');
  } catch {
    return '';
  }
}

/** The instance's master process (its daemons are its children), from `<queue>/pid/master.pid`. */
function masterPid(dir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dir, 'queue', 'pid', 'master.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Postfix's own count: deliveries the discard transport logged. */
function discarded(dir: string): number {
  try {
    return readFileSync(join(dir, 'data', 'maillog'), 'utf8').split('status=sent').length - 1;
  } catch {
    return 0;
  }
}

/**
 * A private Postfix instance (`postfix -c <temp>/conf start`, queue and data in the temp directory) with
 * `default_transport = discard`, its smtpd on 127.0.0.1:<port>, started pinned to core 0 (every daemon
 * inherits the affinity). Postfix writes each message to its queue with fsync before the 250.
 */
export async function startPostfix(): Promise<BenchServer> {
  const postfix = findCommand('postfix')!;
  const dir = await mkdtemp(join(tmpdir(), 'mailroom-bench-postfix-'));
  // mkdtemp makes it 0700: Postfix's daemons (mail_owner) must reach the queue and data directories.
  await chmod(dir, 0o755);
  const conf = join(dir, 'conf');
  await mkdir(conf);
  await mkdir(join(dir, 'queue'));
  await mkdir(join(dir, 'data'));
  await chown(join(dir, 'data'), uidOf('postfix'), -1);
  const port = await freePort();
  await writeFile(join(conf, 'main.cf'), postfixMainCf(dir));
  await writeFile(join(conf, 'master.cf'), `127.0.0.1:${port} inet n - n - - smtpd\n${MASTER_CF}`);
  const taskset = findCommand('taskset');
  const start = taskset
    ? [taskset, ['-c', '0', postfix, '-c', conf, 'start']]
    : [postfix, ['-c', conf, 'start']];
  const stop = async () => {
    await run(postfix, ['-c', conf, 'stop']).catch(() => run(postfix, ['-c', conf, 'abort']).catch(() => {}));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run(start[0] as string, start[1] as string[], { timeout: 60_000 });
    await waitForGreeting(port, 30_000);
  } catch (err) {
    const why = `${String((err as { stderr?: string }).stderr ?? err).trim()} ${maillogTail(dir)}`.trim();
    await stop();
    throw new Error(`Postfix did not start: ${why}`, { cause: err });
  }
  let stopping: Promise<void> | null = null;
  return {
    port,
    pid: masterPid(dir),
    count: async () => discarded(dir),
    /** The queue is empty once every message the run handed in is logged as discarded. */
    settle: async () => {
      for (let i = 0, last = -1; i < 120; i++) {
        const now = discarded(dir);
        if (now === last) return;
        last = now;
        await sleep(500);
      }
    },
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
  };
}
