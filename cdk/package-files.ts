import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT, RUNNING_FROM_SOURCE } from '../lib/package-root.ts';

/**
 * Where the running Mailroom's own files are, for the constructs: the TypeScript sources in this
 * repository, the compiled `dist/` of an installed package. Everything is found from this module's own
 * folder (`cdk/` or `dist/cdk/`) or from the package root, never from the user's current directory.
 */

/** This module's folder: `cdk/` (sources) or `dist/cdk/` (installed); the plain `.mjs` files sit beside it. */
export const CDK_DIR: string = dirname(fileURLToPath(import.meta.url));

/** The folder the compiled (or source) `lib/`, `cdk/` and `functions/` hang from. */
const CODE_ROOT = RUNNING_FROM_SOURCE ? PACKAGE_ROOT : join(PACKAGE_ROOT, 'dist');
const EXT = RUNNING_FROM_SOURCE ? '.ts' : '.js';

/** The processor Lambda's entry point: `functions/process.ts`, or `dist/functions/process.js` when installed. */
export const PROCESSOR_ENTRY: string = join(CODE_ROOT, 'functions', `process${EXT}`);

/**
 * The modules `mailroom` and its subpaths name in the running package, so that a user's config bundled
 * beside Mailroom's own code shares one copy of it (in this repository: the sources, as tsconfig `paths`
 * map them). `mailroom/cdk` is left out: nothing that runs in a Lambda or a container imports it.
 */
export const MAILROOM_ENTRIES: Readonly<Record<string, string>> = {
  mailroom: join(CODE_ROOT, 'lib', `index${EXT}`),
  'mailroom/testing': join(CODE_ROOT, 'lib', 'testing', `index${EXT}`),
  'mailroom/aws': join(CODE_ROOT, 'lib', 'aws', `index${EXT}`),
};

/** A module of this folder by its base name (`config-summary-cli` → `…/cdk/config-summary-cli.ts|.js`). */
export function cdkModule(name: string): string {
  return join(CDK_DIR, `${name}${EXT}`);
}

export { PACKAGE_ROOT, RUNNING_FROM_SOURCE };
