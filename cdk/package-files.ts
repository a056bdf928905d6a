import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CODE_ROOT,
  CODE_EXT as EXT,
  MAILROOM_ENTRY_FILES,
  PACKAGE_ROOT,
  RUNNING_FROM_SOURCE,
} from '../lib/kernel/index.ts';

/**
 * Where the running Mailroom's own files are, for the constructs: the TypeScript sources in this
 * repository, the compiled `dist/` of an installed package. Everything is found from this module's own
 * folder (`cdk/` or `dist/cdk/`) or from the package root, never from the user's current directory.
 */

/** This module's folder: `cdk/` (sources) or `dist/cdk/` (installed); the plain `.mjs` files sit beside it. */
export const CDK_DIR: string = dirname(fileURLToPath(import.meta.url));

/** The processor Lambda's entry point: `functions/process.ts`, or `dist/functions/process.js` when installed. */
export const PROCESSOR_ENTRY: string = join(CODE_ROOT, 'functions', `process${EXT}`);

/**
 * The modules `mailroom` and its subpaths name in the running package, so that a user's config bundled
 * beside Mailroom's own code shares one copy of it (in this repository: the sources, as tsconfig `paths`
 * map them). One mapping, `MAILROOM_ENTRY_FILES` of lib/package-root.ts, which `loadConfig` uses too.
 * `mailroom/cdk` is left out: nothing that runs in a Lambda or a container imports it.
 */
export const MAILROOM_ENTRIES: Readonly<Record<string, string>> = {
  mailroom: MAILROOM_ENTRY_FILES.mailroom,
  'mailroom/testing': MAILROOM_ENTRY_FILES['mailroom/testing'],
  'mailroom/aws': MAILROOM_ENTRY_FILES['mailroom/aws'],
};

/** A module of this folder by its base name (`config-summary-cli` → `…/cdk/config-summary-cli.ts|.js`). */
export function cdkModule(name: string): string {
  return join(CDK_DIR, `${name}${EXT}`);
}

export { PACKAGE_ROOT, RUNNING_FROM_SOURCE };
