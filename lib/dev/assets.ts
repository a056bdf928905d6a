import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { HttpError } from './errors.ts';

/**
 * The page's script and stylesheet (lib/dev/web/), bundled and minified by esbuild. An installed package
 * serves the files `npm run build` wrote to `dist/lib/dev/web-assets/`; in this repository (no such
 * directory next to the sources) the first request bundles the sources in memory, so `npm start` always
 * serves the page as it is. Names carry a content hash, so the files are cached for good.
 */

export interface WebAssetFile {
  body: Buffer;
  gzip: Buffer;
  type: string;
}

export interface WebAssets {
  /** File names under `/assets/`. */
  script: string;
  style: string;
  files: Map<string, WebAssetFile>;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

const here = fileURLToPath(new URL('.', import.meta.url));
const PREBUILT_DIR = join(here, 'web-assets');
const SOURCE_ENTRY = join(here, 'web', 'main.ts');

/** Bundles lib/dev/web into `app.js` and `app.css` (minified, ES2022, no source maps). */
export async function bundleWebAssets(entry = SOURCE_ENTRY): Promise<Array<{ name: string; body: Buffer }>> {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: { app: entry },
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    write: false,
    outdir: 'out',
    legalComments: 'none',
    logLevel: 'silent',
  });
  return result.outputFiles.map((f) => ({
    name: f.path.split(/[\\/]/).pop()!,
    body: Buffer.from(f.contents),
  }));
}

/**
 * `npm run build` (scripts/build.mjs, with the compiled copy of this file): bundles `entry` (the sources'
 * lib/dev/web/main.ts) into `outDir`, where the installed package looks for the files.
 */
export async function writeWebAssets(entry: string, outDir: string): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const files = await bundleWebAssets(entry);
  for (const { name, body } of files) writeFileSync(join(outDir, name), body);
  return files.map((f) => f.name);
}

function hashed(files: Array<{ name: string; body: Buffer }>): WebAssets {
  const out: WebAssets = { script: '', style: '', files: new Map() };
  for (const { name, body } of files) {
    const ext = extname(name);
    const type = TYPES[ext];
    if (!type) continue;
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
    const file = `${name.slice(0, -ext.length)}-${hash}${ext}`;
    out.files.set(file, { body, gzip: gzipSync(body, { level: 9 }), type });
    if (ext === '.js') out.script = file;
    else out.style = file;
  }
  if (!out.script || !out.style) throw new Error('the web page bundle lacks its script or stylesheet');
  return out;
}

let loading: Promise<WebAssets> | null = null;

/** The page's assets, loaded (or bundled) once per process. */
export function webAssets(): Promise<WebAssets> {
  loading ??= (async () => {
    if (existsSync(PREBUILT_DIR)) {
      const names = readdirSync(PREBUILT_DIR);
      return hashed(names.map((name) => ({ name, body: readFileSync(join(PREBUILT_DIR, name)) })));
    }
    return hashed(await bundleWebAssets());
  })();
  // A failed bundle (a syntax error while editing the page) is tried again on the next request.
  loading.catch(() => {
    loading = null;
  });
  return loading;
}

/** `GET /assets/:name`: a bundled file, gzipped when the client takes it, cached for a year. */
export async function serveAsset(
  _deps: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  _url: URL,
  m: RegExpMatchArray,
): Promise<void> {
  const file = (await webAssets()).files.get(m[1]!);
  if (!file) throw new HttpError(404, `no asset ${m[1]}`);
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? file.gzip : file.body;
  res.writeHead(200, {
    'content-type': file.type,
    'content-length': body.length,
    'cache-control': 'public, max-age=31536000, immutable',
    'cross-origin-resource-policy': 'same-origin',
    vary: 'accept-encoding',
    ...(gzip ? { 'content-encoding': 'gzip' } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
