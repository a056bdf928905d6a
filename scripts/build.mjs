#!/usr/bin/env node
// `npm run build` (also run by `npm pack` through `prepack`): compiles lib/, cdk/ and functions/ to dist/ as
// ESM JavaScript with declaration files (tsc: the same compiler that type-checks the sources, so what ships is
// what was checked; relative `.ts` imports are rewritten to `.js`), then copies the plain JavaScript files some
// modules load at run time next to their compiled neighbours.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/** Run-time files that are not TypeScript: [source, destination] relative to the repository root. */
const ASSETS = [
  ['cdk/processor-stubs', 'dist/cdk/processor-stubs'],
  ['cdk/processor-side-packages.mjs', 'dist/cdk/processor-side-packages.mjs'],
  ['cdk/handlers', 'dist/cdk/handlers'],
  // npm never packs a root lock file: SmtpIngress's generated image installs Mailroom's dependencies from this
  // copy with `npm ci` (cdk/smtp-image.ts SHIPPED_LOCK_FILE), the versions this package was tested with.
  ['package-lock.json', 'dist/cdk/smtp-image/package-lock.json'],
];

rmSync(dist, { recursive: true, force: true });
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
    stdio: 'inherit',
    cwd: root,
  });
} catch {
  console.error('build: tsc failed');
  process.exit(1);
}
// functions/process.ts imports the user's config as `mailroom-config`; tsc follows the repo's path mapping to
// the example config, which is not part of the package.
rmSync(join(dist, 'examples'), { recursive: true, force: true });
for (const [from, to] of ASSETS) {
  if (existsSync(join(root, from))) cpSync(join(root, from), join(root, to), { recursive: true });
}
// The dev page's script and stylesheet (lib/dev/web/, not compiled by tsc), bundled and minified by the
// compiled lib/dev/assets.js into dist/lib/dev/web-assets/, which the installed package serves.
try {
  const { writeWebAssets } = await import(pathToFileURL(join(dist, 'lib/dev/assets.js')).href);
  await writeWebAssets(join(root, 'lib/dev/web/main.ts'), join(dist, 'lib/dev/web-assets'));
} catch (err) {
  console.error(`build: the dev page's assets failed: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}
console.error('build: dist/ written');
