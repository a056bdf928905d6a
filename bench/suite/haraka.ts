import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { captureStderr, freePort, settleCpu, spawnPinned, waitForGreeting } from './procs.ts';
import { type BenchServer, stopper } from './server.ts';

const run = promisify(execFile);

/** Where the installed Haraka is kept between runs. */
export const HARAKA_CACHE = join(homedir(), '.cache', 'mailroom-bench', 'haraka');

function packageDir(root: string): string {
  return join(root, 'node_modules', 'Haraka');
}

/** The cached Haraka's version, or null when none is cached. */
export function cachedHarakaVersion(root = HARAKA_CACHE): string | null {
  const pkg = join(packageDir(root), 'package.json');
  if (!existsSync(pkg)) return null;
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
}

/**
 * Makes sure Haraka 3.x is in the cache: installed with `npm install --prefix` into a fresh temporary
 * directory, then copied to {@link HARAKA_CACHE}. Never touches the repository's node_modules.
 * @returns the version, or throws with npm's last lines.
 */
export async function ensureHaraka(log: (line: string) => void): Promise<string> {
  const cached = cachedHarakaVersion();
  if (cached) return cached;
  const temp = await mkdtemp(join(tmpdir(), 'mailroom-bench-haraka-install-'));
  try {
    log(`installing Haraka 3.x from npm into ${temp} (cached afterwards in ${HARAKA_CACHE}) …`);
    try {
      await run(
        'npm',
        ['install', '--prefix', temp, 'Haraka@3', '--no-audit', '--no-fund', '--loglevel=error'],
        {
          timeout: 300_000,
          cwd: temp,
        },
      );
    } catch (err) {
      const text = String((err as { stderr?: string }).stderr ?? err)
        .trim()
        .split('\n')
        .slice(-3)
        .join(' ');
      throw new Error(`npm could not install Haraka: ${text}`, { cause: err });
    }
    const version = cachedHarakaVersion(temp);
    if (!version) throw new Error('npm install finished but node_modules/Haraka is missing');
    await mkdir(join(HARAKA_CACHE, '..'), { recursive: true });
    await rm(HARAKA_CACHE, { recursive: true, force: true });
    await cp(temp, HARAKA_CACHE, { recursive: true });
    return version;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/**
 * Haraka with `queue/discard` (every message answered 250 and dropped), `rcpt_to.in_host_list` for
 * example.com, nodes=1, log level warn, in a fresh config directory made with `haraka -i`.
 */
export async function startHaraka(): Promise<BenchServer> {
  const bin = join(packageDir(HARAKA_CACHE), 'bin', 'haraka');
  const dir = await mkdtemp(join(tmpdir(), 'mailroom-bench-haraka-'));
  await run(process.execPath, [bin, '-i', dir], { timeout: 60_000 });
  const port = await freePort();
  const config = join(dir, 'config');
  await writeFile(join(config, 'smtp.ini'), `listen=127.0.0.1:${port}\nnodes=1\nforce_shutdown_timeout=2\n`);
  await writeFile(join(config, 'plugins'), 'rcpt_to.in_host_list\nqueue/discard\n');
  await writeFile(join(config, 'host_list'), 'example.com\n');
  await writeFile(join(config, 'log.ini'), '[main]\nlevel=warn\n');
  const child = spawnPinned(0, process.execPath, [bin, '-c', dir], {
    env: { ...process.env, YES_REALLY_DO_DISCARD: '1' },
  });
  const err = captureStderr(child);
  const stop = stopper(child, dir);
  try {
    await waitForGreeting(port, 90_000, child);
  } catch (cause) {
    await stop();
    throw new Error(`Haraka did not start: ${err.text().trim().split('\n').slice(-3).join(' ')}`, { cause });
  }
  return {
    port,
    pid: child.pid ?? null,
    count: async () => null,
    settle: async () => {
      if (child.pid) await settleCpu(child.pid, 10_000);
    },
    stop,
  };
}
