import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as mailroom from 'mailroom';
import * as testing from 'mailroom/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lib/config/errors.ts';
import { loadConfig } from '../../../lib/config/load-config.ts';
import { PACKAGE_ROOT as REPOSITORY } from '../../../lib/kernel/index.ts';

/**
 * loadConfig bundles the config with esbuild into a temporary module beside it: a user's project here is a
 * folder outside this repository, with its own node_modules.
 */
let project: string;

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'mailroom-load-config-'));
  // A package only this project has: it must resolve from the config's folder, not from Mailroom's.
  write('node_modules/project-only-greeting/package.json', {
    name: 'project-only-greeting',
    type: 'module',
    exports: './index.js',
  });
  write('node_modules/project-only-greeting/index.js', "export const domain = 'greeting.test';\n");
});
afterAll(() => {
  rmSync(project, { recursive: true, force: true });
});

function write(relativePath: string, content: string | object): string {
  const file = join(project, relativePath);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

/** The temporary bundles left in the project's folders (there must be none). */
function leftovers(): string[] {
  return readdirSync(project, { recursive: true, encoding: 'utf8' }).filter((f) => f.includes('.timestamp-'));
}

async function loadError(file: string): Promise<ConfigError> {
  const error = await loadConfig(file).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('loadConfig', () => {
  it('loads a TypeScript config with a relative TypeScript handler imported by its .js name', async () => {
    write(
      'ok/handlers/store-reply.ts',
      [
        "import type { HandlerContext } from 'mailroom';",
        'export async function storeReply(_ctx: HandlerContext): Promise<string> {',
        '  return import.meta.url;',
        '}',
        '',
      ].join('\n'),
    );
    const file = write(
      'ok/mailroom.config.ts',
      [
        "import { defineMailroom, handler, mailbox } from 'mailroom';",
        "import { storeReply } from './handlers/store-reply.js';",
        'const port: number = 2525;',
        'export default defineMailroom({',
        "  domains: ['Example.com'],",
        '  smtp: { port },',
        '  routes: [',
        "    { name: 'replies', match: 'reply@example.com', action: handler(storeReply) },",
        "    { name: 'support', match: 'support@example.com', action: mailbox('support') },",
        '  ],',
        '});',
        '',
      ].join('\n'),
    );
    const config = await loadConfig(file);
    expect(config.domains).toEqual(['example.com']);
    expect(config.smtp.port).toBe(2525);
    const action = config.routes[0]!.action;
    expect(action).toMatchObject({ kind: 'handler', name: 'storeReply' });
    // The handler's module keeps its own import.meta.url, though it was bundled into the config's.
    const fn = (action as { fn: unknown }).fn as () => Promise<string>;
    expect(await fn()).toBe(pathToFileURL(join(project, 'ok/handlers/store-reply.ts')).href);
    expect(leftovers()).toEqual([]);
  });

  it("resolves bare packages from the config's own project", async () => {
    const file = write(
      'pkg/mailroom.config.ts',
      [
        "import { defineMailroom, mailbox } from 'mailroom';",
        "import { domain } from 'project-only-greeting';",
        'export default defineMailroom({',
        '  domains: [domain],',
        "  routes: [{ match: 'hello@' + domain, action: mailbox('hello') }],",
        '});',
        '',
      ].join('\n'),
    );
    const config = await loadConfig(file);
    expect(config.domains).toEqual(['greeting.test']);
    expect(leftovers()).toEqual([]);
  });

  // In a project of its own, and inside this repository, whose tsconfig `paths` would let esbuild bundle a
  // second copy of the sources: the loader's mapping comes first.
  it.each([
    ['a project of its own', () => join(project, 'same')],
    ['this repository', () => mkdtempSync(join(REPOSITORY, '.bench-bundle-load-config-'))],
  ])("imports mailroom as the caller's own module instances (config in %s)", async (_where, folder) => {
    const dir = folder();
    try {
      const file = join(dir, 'mailroom.config.ts');
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        file,
        [
          "import * as mailroom from 'mailroom';",
          "import * as testing from 'mailroom/testing';",
          'const seen = globalThis as { mailroomLoaderTest?: unknown };',
          'seen.mailroomLoaderTest = { mailroom, testing };',
          'export default mailroom.defineMailroom({',
          "  domains: ['example.com'],",
          "  routes: [{ match: 'a@example.com', action: mailroom.handler(async () => {}, 'a') }],",
          '});',
          '',
        ].join('\n'),
      );
      const config = await loadConfig(file);
      const seen = (globalThis as { mailroomLoaderTest?: { mailroom: object; testing: object } })
        .mailroomLoaderTest;
      delete (globalThis as { mailroomLoaderTest?: unknown }).mailroomLoaderTest;
      expect(Object.keys(seen!.mailroom).sort()).toEqual(Object.keys(mailroom).sort());
      for (const [name, value] of Object.entries(seen!.mailroom)) {
        expect(value, name).toBe((mailroom as Record<string, unknown>)[name]);
      }
      for (const [name, value] of Object.entries(seen!.testing)) {
        expect(value, name).toBe((testing as Record<string, unknown>)[name]);
      }
      expect(config.routes[0]!.action).toMatchObject({ kind: 'handler', name: 'a' });
      expect(readdirSync(dir)).toEqual(['mailroom.config.ts']);
    } finally {
      if (dir.startsWith(REPOSITORY)) rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports a syntax error of the config as the config's file:line:column", async () => {
    const file = write(
      'syntax/mailroom.config.ts',
      [
        "import { defineMailroom } from 'mailroom';",
        '',
        "export default defineMailroom({ domains: ['example.com'], routes: [] ;",
        '',
      ].join('\n'),
    );
    const error = await loadError(file);
    expect(error.message).toBe(`${file}:3:70: Expected "}" but found ";"`);
    expect(error.problems).toEqual([error.message]);
    expect(leftovers()).toEqual([]);
  });

  it('reports the syntax errors of every imported file, one per line', async () => {
    write('syntax-all/handlers/a.ts', 'export const a = ;\n');
    write('syntax-all/handlers/b.ts', 'export const b = 1;\nexport const c = {;\n');
    const file = write(
      'syntax-all/mailroom.config.ts',
      [
        "import { a } from './handlers/a.js';",
        "import { b } from './handlers/b.js';",
        'export default { domains: [a, b], routes: [] };',
        '',
      ].join('\n'),
    );
    const error = await loadError(file);
    // Outside the current folder: absolute paths. Columns count from 1, as editors do (line 1 too).
    expect(error.message.split('\n').sort()).toEqual([
      `${join(project, 'syntax-all/handlers/a.ts')}:1:18: Unexpected ";"`,
      `${join(project, 'syntax-all/handlers/b.ts')}:2:19: Expected identifier but found ";"`,
    ]);
    expect(leftovers()).toEqual([]);
  });

  it('names a config without a default export', async () => {
    const file = write(
      'nodefault/mailroom.config.ts',
      "export const config = { domains: ['example.com'] };\n",
    );
    const error = await loadError(file);
    expect(error.message).toBe(
      `config file ${file} has no default export (export default defineMailroom({...}))`,
    );
    expect(leftovers()).toEqual([]);
  });

  it('names a missing file', async () => {
    const file = join(project, 'missing/mailroom.config.ts');
    const error = await loadError(file);
    expect(error.message).toBe(`config file not found: ${file}`);
  });

  it('reports the first line of an error thrown while the config loads, keeping the error', async () => {
    const file = write(
      'throws/mailroom.config.ts',
      [
        "import { defineMailroom } from 'mailroom';",
        'const n: number = 1;',
        "if (n === 1) throw new Error('no database for the config\\nsecond line');",
        "export default defineMailroom({ domains: ['example.com'], routes: [] });",
        '',
      ].join('\n'),
    );
    const error = await loadError(file);
    expect(error.message).toBe(`config file ${file} failed to load: no database for the config`);
    expect(error.cause).toBeInstanceOf(Error);
    expect((error.cause as Error).message).toBe('no database for the config\nsecond line');
    // The stack trace names the config's own file, not the temporary bundle.
    expect((error.cause as Error).stack).toContain(`mailroom.config.ts:3:`);
    expect((error.cause as Error).stack).not.toMatch(/\.timestamp-/);
    expect(leftovers()).toEqual([]);
  });

  it('names the config, not the temporary bundle, when a package is missing', async () => {
    const file = write(
      'nopkg/mailroom.config.ts',
      [
        "import { nothing } from 'no-such-package-anywhere';",
        "export default { domains: ['example.com'], routes: [], nothing };",
        '',
      ].join('\n'),
    );
    const error = await loadError(file);
    expect(error.message).toMatch(
      new RegExp(`^config file ${file} failed to load: .*no-such-package-anywhere`),
    );
    expect(error.message).not.toMatch(/\.timestamp-/);
    expect(leftovers()).toEqual([]);
  });

  it('loads a JavaScript config the same way', async () => {
    const file = write(
      'js/mailroom.config.mjs',
      [
        "import { defineMailroom, mailbox } from 'mailroom';",
        "import { domain } from 'project-only-greeting';",
        "export default defineMailroom({ domains: [domain], routes: [{ match: 'a@' + domain, action: mailbox('a') }] });",
        '',
      ].join('\n'),
    );
    expect((await loadConfig(file)).domains).toEqual(['greeting.test']);
    expect(leftovers()).toEqual([]);
  });

  it('lets CommonJS code require packages of the project', async () => {
    write('node_modules/project-only-cjs/package.json', { name: 'project-only-cjs', main: 'index.js' });
    write('node_modules/project-only-cjs/index.js', "exports.name = 'legacy';\n");
    write(
      'cjs/handlers/legacy.cjs',
      "module.exports = { domain: require('project-only-cjs').name + require('node:path').sep };\n",
    );
    const file = write(
      'cjs/mailroom.config.ts',
      [
        "import { defineMailroom, mailbox } from 'mailroom';",
        "import legacy from './handlers/legacy.cjs';",
        "const domain = legacy.domain.replace('/', '') + '.test';",
        'export default defineMailroom({',
        '  domains: [domain],',
        "  routes: [{ match: 'a@' + domain, action: mailbox('a') }],",
        '});',
        '',
      ].join('\n'),
    );
    expect((await loadConfig(file)).domains).toEqual(['legacy.test']);
    expect(leftovers()).toEqual([]);
  });

  it('still validates the options', async () => {
    const file = write(
      'invalid/mailroom.config.ts',
      "export default { domains: ['not a domain'], routes: [] };\n",
    );
    const error = await loadError(file);
    expect(error.message).toMatch(/^invalid Mailroom config: domains\[0\]/);
    expect(leftovers()).toEqual([]);
  });
});
