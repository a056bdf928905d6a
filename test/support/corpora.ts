import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Where the shared third-party corpora live: `MAILROOM_CORPORA`, else `../shared/corpora` from the project root.
 * Returns null (and prints a notice once) when absent, so `npm test` passes on a user's machine.
 */
export function corporaDir(): string | null {
  const dir = resolve(
    process.env.MAILROOM_CORPORA ?? resolve(import.meta.dirname, '../../../shared/corpora'),
  );
  if (existsSync(dir)) return dir;
  if (!noticePrinted) {
    noticePrinted = true;
    console.warn(
      `[mailroom tests] corpora not found at ${dir}; corpus tests are skipped (set MAILROOM_CORPORA)`,
    );
  }
  return null;
}
let noticePrinted = false;
