#!/usr/bin/env node
// Builds the packages the processor Lambda's bundle leaves out, into `<outDir>/node_modules`, offline (esbuild
// and copies from the installed node_modules; no npm install). Run by the processor's NodejsFunction after
// bundling (see processor-bundling.ts) and by bench/bundle.ts.
//
// - Loaded on first use only (so they cost nothing at cold start): mailauth (only for mail that arrives
//   without verdicts), nodemailer's MailComposer (only when a handler replies), and the SDK clients of the
//   lambda(), eventBridge() and forward() actions and of MAILROOM_EVENT_BUS, and lib-storage (the
//   multipart uploads of the attachments it keeps, on the first attachment). Each is one minified
//   CommonJS file.
// - Charset tables: iconv-lite and encoding-japanese are copied as they are. Their CJK tables (≈0.5 MB) load
//   only when a message uses such a charset.
//
// Usage: node cdk/processor-side-packages.mjs <outDir>
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

// Packages are found from this file, as Node would from Mailroom's own code: this repository's
// node_modules, or (installed, as dist/cdk/processor-side-packages.mjs) the user's.
const require = createRequire(import.meta.url);

/** Packages built into one file each: [specifier, package name, file inside the package]. */
export const LAZY_PACKAGES = [
  ['mailauth', 'mailauth', 'index.js'],
  ['nodemailer/lib/mail-composer', 'nodemailer', 'lib/mail-composer.js'],
  ['@aws-sdk/client-lambda', '@aws-sdk/client-lambda', 'index.js'],
  ['@aws-sdk/client-eventbridge', '@aws-sdk/client-eventbridge', 'index.js'],
  ['@aws-sdk/client-sesv2', '@aws-sdk/client-sesv2', 'index.js'],
  ['@aws-sdk/lib-storage', '@aws-sdk/lib-storage', 'index.js'],
];
/** Packages copied as they are (with their only dependency). */
export const COPIED_PACKAGES = ['iconv-lite', 'safer-buffer', 'encoding-japanese'];
/** What the main bundle must leave external: the above, and esbuild (only `loadConfig` uses it, never a Lambda). */
export const EXTERNAL_MODULES = [
  ...LAZY_PACKAGES.map(([specifier]) => specifier),
  'iconv-lite',
  'encoding-japanese',
  'esbuild',
];

/** Directory of an installed package (found through its package.json). */
function packageDir(name) {
  return dirname(require.resolve(`${name}/package.json`));
}

export async function buildSidePackages(outDir) {
  const modules = join(outDir, 'node_modules');
  const exportsOf = new Map();
  for (const [specifier, name, file] of LAZY_PACKAGES) {
    await build({
      entryPoints: [require.resolve(specifier)],
      outfile: join(modules, name, file),
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      minify: true,
      legalComments: 'none',
      // ESM sources where packages have them: esbuild then marks the named exports so that Node's
      // `import()` of this CommonJS file sees them.
      mainFields: ['module', 'main'],
      // The copied iconv-lite serves these too (one copy of the tables).
      external: ['iconv-lite', 'encoding-japanese'],
      logLevel: 'error',
    });
    const map = exportsOf.get(name) ?? {};
    map[specifier === name ? '.' : `./${specifier.slice(name.length + 1)}`] = `./${file}`;
    exportsOf.set(name, map);
  }
  for (const [name, map] of exportsOf) {
    await writeFile(
      join(modules, name, 'package.json'),
      `${JSON.stringify({ name, private: true, type: 'commonjs', exports: map }, null, 2)}\n`,
    );
  }
  for (const name of COPIED_PACKAGES) {
    await mkdir(join(modules, name), { recursive: true });
    await cp(packageDir(name), join(modules, name), { recursive: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const outDir = process.argv[2];
  if (!outDir) {
    process.stderr.write('usage: node cdk/processor-side-packages.mjs <outDir>\n');
    process.exit(2);
  }
  await buildSidePackages(outDir);
}
