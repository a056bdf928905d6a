import { type ExecFileSyncOptions, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { projectRoot } from '../support/mailroom-process.ts';

/** What `npm pack` made of this repository. */
export interface PackedMailroom {
  tarball: string;
  /** The package's version. */
  version: string;
  /** Compressed and unpacked size in bytes, and the number of files. */
  size: number;
  unpackedSize: number;
  files: string[];
  packMs: number;
}

/** `npm pack` (which builds dist/ through `prepack`) into a temp folder outside the repository. */
export function packMailroom(): PackedMailroom {
  const out = mkdtempSync(join(tmpdir(), 'mailroom-pack-'));
  const started = performance.now();
  const json = execFileSync('npm', ['pack', '--json', '--pack-destination', out], {
    cwd: projectRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const [info] = JSON.parse(json) as Array<{
    filename: string;
    version: string;
    size: number;
    unpackedSize: number;
    files: Array<{ path: string }>;
  }>;
  return {
    tarball: join(out, info!.filename),
    version: info!.version,
    size: info!.size,
    unpackedSize: info!.unpackedSize,
    files: info!.files.map((f) => f.path),
    packMs: performance.now() - started,
  };
}

/** The versions this repository's lock file has, so that installs are served from the npm cache. */
export function lockedVersion(name: string): string {
  const lock = JSON.parse(
    execFileSync(
      'node',
      ['-p', `JSON.stringify(require('./package-lock.json').packages['node_modules/${name}'])`],
      {
        cwd: projectRoot,
        encoding: 'utf8',
      },
    ),
  ) as { version: string };
  return lock.version;
}

/** Writes `files` (path → content) under `dir`. */
export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

/**
 * `npm install` in `dir`, served from the npm cache where it can be (`--prefer-offline`). Install scripts are
 * skipped: the one that matters, better-sqlite3's native build (minutes from source on a machine without a
 * prebuilt binary), is copied from this repository's node_modules instead (same Node, same ABI).
 */
export function npmInstall(dir: string, extra: string[] = []): number {
  const started = performance.now();
  run('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', ...extra], dir);
  cpSync(
    join(projectRoot, 'node_modules/better-sqlite3/build'),
    join(dir, 'node_modules/better-sqlite3/build'),
    {
      recursive: true,
    },
  );
  return performance.now() - started;
}

/** Runs a command in `dir`; throws with its output when it fails. */
export function run(command: string, args: string[], dir: string, options: ExecFileSyncOptions = {}): string {
  try {
    return execFileSync(command, args, {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
      ...options,
      env: { ...process.env, CI: 'true', npm_config_update_notifier: 'false', ...options.env },
    }) as string;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${command} ${args.join(' ')} failed in ${dir}:\n${e.stdout ?? ''}\n${e.stderr ?? ''}\n${e.message}`,
    );
  }
}

/** A fresh folder outside the repository. */
export function tempProject(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Starts `mailroom dev` from the consumer's node_modules; resolves with the ports once it listens. */
export async function startConsumerDev(
  dir: string,
  config: string,
  env: Record<string, string> = {},
): Promise<{ smtpPort: number; httpPort: number; stop: () => void; stderr: () => string }> {
  const child = spawn(
    process.execPath,
    [
      join(dir, 'node_modules/mailroom/bin/mailroom.js'),
      'dev',
      '--config',
      config,
      '--smtp-port',
      '0',
      '--http-port',
      '0',
      '--data',
      join(dir, '.mailroom'),
    ],
    {
      cwd: dir,
      env: { ...process.env, MAILROOM_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  child.stdout.resume();
  const ports = await new Promise<{ smtp: number; http: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mailroom dev did not start:\n${err}`)), 60_000);
    child.stderr.on('data', () => {
      const m = err.match(/SMTP on [^:]+:(\d+), web UI and API on http:\/\/[^:]+:(\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolve({ smtp: Number(m[1]), http: Number(m[2]) });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mailroom dev exited (${code}):\n${err}`));
    });
  });
  return { smtpPort: ports.smtp, httpPort: ports.http, stop: () => child.kill('SIGTERM'), stderr: () => err };
}
