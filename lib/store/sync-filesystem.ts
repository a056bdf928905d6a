import { execFile } from 'node:child_process';

let supported: boolean | null = null;

/**
 * Flushes every dirty page of the filesystem holding `path` in one `syncfs(2)`, through coreutils'
 * `sync --file-system` (Node has no binding for it). One call makes a whole batch of freshly written files
 * durable, where fsyncing each would cost one flush per file.
 * Resolves false (and is not tried again) where that command is unavailable; the caller then fsyncs files.
 */
export async function syncFilesystem(path: string): Promise<boolean> {
  if (supported === false) return false;
  const ok = await new Promise<boolean>((resolve) => {
    execFile('sync', ['--file-system', path], { timeout: 60_000 }, (err) => resolve(!err));
  });
  if (!ok && supported === null) supported = false;
  if (ok) supported = true;
  if (!ok && supported) throw new Error(`sync --file-system ${path} failed`);
  return ok;
}
