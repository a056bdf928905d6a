import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';

/** `<final name>.<pid>-<n>`: the temp files a local store writes before renaming them into place. */
const TEMP_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*\.(\d+)-(\d+)$/;

/**
 * A temp file of another live process is left alone unless it is older than this: by then the process is
 * not the one that wrote it (its pid was reused, as a container restarted with the same pid is).
 */
export const STALE_TEMP_MS = 24 * 60 * 60 * 1000;

/** Temp files being written by this thread, by path (several stores may share one directory). */
const inUse = new Set<string>();
/** Worker threads of one process count from far apart, so that their temp names never meet. */
let counter = threadId * 1_000_000_000;

/** A fresh temp path in `dir` for `base`, marked in use until {@link releaseTempPath}. */
export function tempPath(dir: string, base: string): string {
  const path = join(dir, `${base}.${process.pid}-${++counter}`);
  inUse.add(path);
  return path;
}

export function releaseTempPath(path: string): void {
  inUse.delete(path);
}

function processAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes temp files left in `dir` by a crash: only names of the form {@link tempPath} makes, and only
 * those no live writer can still rename: this process's files not in use, files of processes that are
 * gone, and files older than {@link STALE_TEMP_MS}. Best effort: a file that cannot be removed stays.
 * @returns the names removed.
 */
export async function removeStaleTemps(dir: string, now = Date.now()): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const match = TEMP_NAME.exec(name);
    if (!match) continue;
    const path = join(dir, name);
    const pid = Number(match[1]);
    try {
      const stat = await lstat(path);
      if (!stat.isFile()) continue;
      const stale =
        pid === process.pid ? !inUse.has(path) : !processAlive(pid) || now - stat.mtimeMs > STALE_TEMP_MS;
      if (!stale) continue;
      await unlink(path);
      removed.push(name);
    } catch {
      // gone meanwhile (renamed by its writer) or not ours to remove
    }
  }
  return removed;
}
