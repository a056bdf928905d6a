import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the running Mailroom lives: the folder holding its package.json (this repository, or
 * `node_modules/mailroom` of a user's project), found by walking up from this module.
 */
export const PACKAGE_ROOT: string = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/**
 * True when Mailroom runs from its TypeScript sources (this repository: tests, `npm start`), false when it
 * runs the compiled `dist/` of an installed package.
 */
export const RUNNING_FROM_SOURCE: boolean = import.meta.url.endsWith('.ts');

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return start;
  }
}
