import { randomBytes } from 'node:crypto';
import { access, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Loader, Message, Plugin } from 'esbuild';
import { MAILROOM_ENTRY_FILES, type MailroomSpecifier } from '../kernel/index.ts';
import { ConfigError } from './errors.ts';
import { resolveConfig } from './resolve-config.ts';
import type { MailroomConfig } from './types.ts';

/**
 * Loads a config module and validates its default export. The file (TypeScript or JavaScript) and the
 * relative modules it imports (handlers) are bundled with esbuild into one ES module, written beside the
 * config as `<config>.timestamp-<n>-<hex>.mjs`, imported and deleted (as Vite loads its config): no
 * TypeScript compiler or tsx at run time. Packages stay imports, so they resolve from the config's own
 * project; `mailroom` and its subpaths are the running Mailroom's own modules (one copy: the config's
 * `handler()` and `defineMailroom` are the CLI's). An inline source map points stack traces at the
 * config's own files.
 * @throws ConfigError for a missing file, a file esbuild cannot bundle (`file:line:column: text`, one per
 *   line), a module that fails to load, a missing default export, or invalid options.
 */
export async function loadConfig(file: string): Promise<MailroomConfig> {
  const path = resolve(file);
  try {
    await access(path);
  } catch (cause) {
    throw loadError([`config file not found: ${file}`], cause);
  }
  const mod = await importBundled(file, path);
  let options = mod.default;
  // A module compiled to CommonJS shows up as { default: { default: options } }.
  if (options && typeof options === 'object' && 'default' in options && !('domains' in options)) {
    options = (options as { default: unknown }).default;
  }
  if (options === undefined) {
    throw loadError([`config file ${file} has no default export (export default defineMailroom({...}))`]);
  }
  return resolveConfig(options);
}

/** A ConfigError about the file itself: its message is the lines as they are (no "invalid config"). */
function loadError(lines: string[], cause?: unknown): ConfigError {
  return new ConfigError(lines, { message: lines.join('\n'), ...(cause === undefined ? {} : { cause }) });
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/**
 * Lets bundled CommonJS code `require()` packages and Node built-ins (from the config's folder). Its own
 * name for createRequire: a config bundled before (the SMTP image's) imports it as `__mailroomCreateRequire`,
 * and esbuild keeps that name (it renames the config's `require`, not names it cannot see in a banner).
 */
const REQUIRE_BANNER =
  "import{createRequire as __mailroomLoadConfigCreateRequire}from'node:module';const require=__mailroomLoadConfigCreateRequire(import.meta.url);";

async function importBundled(file: string, path: string): Promise<{ default?: unknown }> {
  // Beside the config, so that its packages resolve from the config's project (node_modules above it).
  const temp = `${path}.timestamp-${Date.now()}-${randomBytes(4).toString('hex')}.mjs`;
  const code = await bundle(file, path, temp);
  try {
    try {
      await writeFile(temp, code, { flag: 'wx' });
    } catch (cause) {
      // A read-only folder (a container's /app): plain JavaScript, such as the config the SMTP image
      // bundles, is imported as it is; TypeScript needs the bundle.
      const code = (cause as NodeJS.ErrnoException).code ?? '';
      if (/\.[cm]?js$/.test(path) && ['EACCES', 'EPERM', 'EROFS'].includes(code)) {
        return await importModule(file, path, path);
      }
      throw loadError(
        [`config file ${file} cannot be loaded: its bundle is written beside it: ${firstLine(cause)}`],
        cause,
      );
    }
    // Node reads the inline source map when the module loads (tsx, in this repository, already did this).
    process.setSourceMapsEnabled(true);
    return await importModule(file, temp, path);
  } finally {
    await rm(temp, { force: true });
  }
}

async function importModule(file: string, modulePath: string, path: string): Promise<{ default?: unknown }> {
  try {
    return await import(/* @vite-ignore */ pathToFileURL(modulePath).href);
  } catch (cause) {
    // Name the config, not the temporary file that is gone by the time anyone reads this.
    const text = firstLine(cause)
      .replaceAll(pathToFileURL(modulePath).href, pathToFileURL(path).href)
      .replaceAll(modulePath, path);
    throw loadError([`config file ${file} failed to load: ${text}`], cause);
  }
}

async function bundle(file: string, path: string, outfile: string): Promise<string> {
  const { build } = await import('esbuild');
  const cwd = process.cwd();
  /** How far `fileLocals` moved the first line of each file it loaded. */
  const shifted = new Map<string, number>();
  try {
    const result = await build({
      entryPoints: [path],
      absWorkingDir: cwd,
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      write: false,
      sourcemap: 'inline',
      sourcesContent: false,
      logLevel: 'silent',
      banner: { js: REQUIRE_BANNER },
      define: FILE_LOCALS_DEFINE,
      plugins: [mailroomEntries(), fileLocals(shifted)],
    });
    const output = result.outputFiles.find((f) => f.path === outfile) ?? result.outputFiles[0];
    if (!output) throw new Error('esbuild wrote nothing');
    return output.text;
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    if (!errors?.length) {
      throw loadError([`config file ${file} could not be bundled: ${firstLine(error)}`], error);
    }
    throw loadError(
      errors.map((e) => {
        if (!e.location) return `${file}: ${e.text}`;
        const at = resolve(cwd, e.location.file);
        const rel = relative(cwd, at);
        const shown = at === path ? file : rel.startsWith('..') || isAbsolute(rel) ? at : rel;
        // esbuild counts columns from 0; editors and tsc from 1.
        const column = e.location.column + 1 - (e.location.line === 1 ? (shifted.get(at) ?? 0) : 0);
        return `${shown}:${e.location.line}:${column}: ${e.text}`;
      }),
      error,
    );
  }
}

/**
 * `mailroom` and its subpaths → the running package's own module files (`MAILROOM_ENTRY_FILES`: the
 * sources in this repository, `dist/` installed), left as imports by absolute file URL so that the config
 * shares the module instances of the code that loads it. Runs before esbuild's own resolution (which would
 * follow a tsconfig `paths` entry for `mailroom` and bundle a second copy).
 */
function mailroomEntries(): Plugin {
  return {
    name: 'mailroom-entries',
    setup(build) {
      build.onResolve({ filter: /^mailroom(\/(testing|aws|cdk))?$/ }, (args) => ({
        path: pathToFileURL(MAILROOM_ENTRY_FILES[args.path as MailroomSpecifier]).href,
        external: true,
      }));
    },
  };
}

const URL_VAR = '__mailroom_import_meta_url';
const DIRNAME_VAR = '__mailroom_dirname';
const FILENAME_VAR = '__mailroom_filename';
const FILE_LOCALS_DEFINE: Record<string, string> = {
  'import.meta.url': URL_VAR,
  'import.meta.dirname': DIRNAME_VAR,
  'import.meta.filename': FILENAME_VAR,
  __dirname: DIRNAME_VAR,
  __filename: FILENAME_VAR,
};
const LOADERS: Record<string, Loader> = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.jsx': 'jsx',
};

/**
 * Each bundled module keeps its own `import.meta.url`, `__dirname` and `__filename` (a handler reading a file
 * beside itself finds it), as Vite's config loader does: defined on the module's first line, so that every
 * other line of the source map stays where it was.
 */
function fileLocals(shifted: Map<string, number>): Plugin {
  return {
    name: 'mailroom-file-locals',
    setup(build) {
      build.onLoad({ filter: /\.([cm]?[jt]s|[jt]sx)$/ }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        const locals =
          `const ${URL_VAR}=${JSON.stringify(pathToFileURL(args.path).href)},` +
          `${DIRNAME_VAR}=${JSON.stringify(dirname(args.path))},` +
          `${FILENAME_VAR}=${JSON.stringify(args.path)};`;
        // A `#!` line may only come first: it becomes a comment after the locals.
        const prefix = source.startsWith('#!') ? `${locals}//` : locals;
        shifted.set(args.path, Buffer.byteLength(prefix));
        return {
          contents: prefix + source,
          loader: LOADERS[extname(args.path)] ?? 'default',
        };
      });
    },
  };
}
