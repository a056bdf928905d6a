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

/** The folder the running `lib/`, `cdk/` and `functions/` hang from: the package root, or its `dist/`. */
export const CODE_ROOT: string = RUNNING_FROM_SOURCE ? PACKAGE_ROOT : join(PACKAGE_ROOT, 'dist');
/** The extension of the running modules: `.ts` (sources) or `.js` (dist/). */
export const CODE_EXT: '.ts' | '.js' = RUNNING_FROM_SOURCE ? '.ts' : '.js';

/** The specifiers users import Mailroom by (the package's `exports`). */
export type MailroomSpecifier = 'mailroom' | 'mailroom/testing' | 'mailroom/aws' | 'mailroom/cdk';

/**
 * The running package's module for each `mailroom` specifier (the sources here, as tsconfig `paths` and the
 * vitest aliases map them; `dist/**.js` installed). A user's config bundled by `loadConfig` or by the
 * constructs imports these files, so that it shares one copy of Mailroom with the code that runs it.
 */
export const MAILROOM_ENTRY_FILES: Readonly<Record<MailroomSpecifier, string>> = {
  mailroom: join(CODE_ROOT, 'lib', `index${CODE_EXT}`),
  'mailroom/testing': join(CODE_ROOT, 'lib', 'testing', `index${CODE_EXT}`),
  'mailroom/aws': join(CODE_ROOT, 'lib', 'aws', `index${CODE_EXT}`),
  'mailroom/cdk': join(CODE_ROOT, 'cdk', `index${CODE_EXT}`),
};

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return start;
  }
}
