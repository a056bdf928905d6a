import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { readApiBundling } from '../../cdk/processor-bundling.ts';
import { PROJECT_ROOT } from '../../cdk/project-root.ts';
import { READ_API_ENTRY } from '../../cdk/read-api.ts';

type Handler = (event: unknown) => Promise<{ statusCode: number; body: string }>;

describe('the read API bundle', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('bundles functions/read-api.ts as the construct does, loads, and answers a bad event with 400', async () => {
    // Inside the project, so the externals resolve from node_modules as beside the deployed bundle.
    dir = await mkdtemp(join(PROJECT_ROOT, '.read-api-bundle-test-'));
    const options = readApiBundling();
    const outfile = join(dir, 'index.mjs');
    await build({
      entryPoints: [READ_API_ENTRY],
      outfile,
      bundle: true,
      platform: 'node',
      target: options.target,
      format: 'esm',
      mainFields: options.mainFields,
      external: options.externalModules,
      alias: Object.fromEntries(
        Object.entries(options.esbuildArgs ?? {}).map(([flag, file]) => [
          flag.slice('--alias:'.length),
          String(file),
        ]),
      ),
      banner: { js: options.banner ?? '' },
      logLevel: 'error',
    });
    const { handler } = (await import(pathToFileURL(outfile).href)) as { handler: Handler };
    const previous = { ...process.env };
    Object.assign(process.env, {
      MAILROOM_RAW_BUCKET: 'mail',
      MAILROOM_TABLE: 'records',
      AWS_REGION: 'us-east-1',
    });
    try {
      const res = await handler({ not: 'a Function URL event' });
      expect(res.statusCode).toBe(400);
      expect(JSON.parse(res.body)).toEqual({ error: 'not a Function URL request' });
    } finally {
      process.env = previous;
    }
  }, 120_000);
});
