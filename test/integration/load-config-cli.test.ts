import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleConfig } from '../../cdk/smtp-image.ts';
import { mailroomBin, projectRoot } from '../support/mailroom-process.ts';

/**
 * loadConfig under plain Node module resolution (the `mailroom` command, not vitest's aliases): a user's
 * project outside this repository, with no `mailroom` in its node_modules, only its own package.
 */
let project: string;
let eml: string;

function write(relativePath: string, content: string): string {
  const file = join(project, relativePath);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

function run(args: string[], cwd = project): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'mailroom-user-project-'));
  write('package.json', JSON.stringify({ name: 'shop', private: true, type: 'module' }));
  write(
    'node_modules/shop-settings/package.json',
    JSON.stringify({ name: 'shop-settings', type: 'module', exports: './index.js' }),
  );
  write('node_modules/shop-settings/index.js', "export const inbox = 'orders';\n");
  write(
    'handlers/order.ts',
    [
      "import type { HandlerContext } from 'mailroom';",
      'export async function order(_ctx: HandlerContext): Promise<void> {}',
      '',
    ].join('\n'),
  );
  write(
    'mailroom.config.ts',
    [
      "import { defineMailroom, handler, mailbox } from 'mailroom';",
      "import { inbox } from 'shop-settings';",
      "import { order } from './handlers/order.js';",
      'export default defineMailroom({',
      "  domains: ['shop.test'],",
      '  routes: [',
      "    { name: 'orders', match: 'orders@shop.test', action: [handler(order), mailbox(inbox)] },",
      '  ],',
      '});',
      '',
    ].join('\n'),
  );
  eml = write(
    'hello.eml',
    'From: ada@sender.test\r\nTo: orders@shop.test\r\nSubject: Order\r\n\r\nOne, please.\r\n',
  );
});
afterAll(() => {
  rmSync(project, { recursive: true, force: true });
});

describe("a user's TypeScript config under the mailroom command", () => {
  it('routes with the handler and the package of the project, leaving nothing behind', async () => {
    const r = await run([mailroomBin, 'route', eml, '--rcpt', 'orders@shop.test']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const decision = JSON.parse(r.stdout) as {
      recipients: { accepted: boolean; matches: { route: string; actions: object[] }[] }[];
    };
    expect(decision.recipients[0]).toMatchObject({
      accepted: true,
      matches: [
        {
          route: 'orders',
          actions: [
            { kind: 'handler', name: 'order' },
            { kind: 'mailbox', mailbox: 'orders' },
          ],
        },
      ],
    });
    expect(readdirSync(project).filter((f) => f.includes('.timestamp-'))).toEqual([]);
  });

  it('prints a syntax error as one line with file:line:column', async () => {
    write(
      'broken.config.ts',
      "import { defineMailroom } from 'mailroom';\nexport default defineMailroom({ domains: [ });\n",
    );
    const r = await run([
      mailroomBin,
      'route',
      eml,
      '--rcpt',
      'orders@shop.test',
      '--config',
      'broken.config.ts',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('mailroom route: broken.config.ts:2:44: Unexpected "}"\n');
    expect(readdirSync(project).filter((f) => f.includes('.timestamp-'))).toEqual([]);
  });

  it('loads a config bundled before, as the SMTP image holds it (two require banners, one module)', async () => {
    // SmtpIngress's bundle of the config: one ES module with its own createRequire banner, `mailroom` left
    // as an import. Plain Node (not vitest's module runner) refuses a name declared twice.
    const file = write('prebundled.config.mjs', bundleConfig(join(project, 'mailroom.config.ts')));
    expect(readFileSync(file, 'utf8')).toContain('__mailroomCreateRequire');
    const r = await run([mailroomBin, 'route', eml, '--rcpt', 'orders@shop.test', '--config', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).recipients[0].accepted).toBe(true);
  });

  it("gives the config the loading code's own mailroom modules", async () => {
    // In a process of its own, outside vitest (whose aliases also map `mailroom`): the sources through tsx.
    write(
      'identity.config.ts',
      [
        "import * as mailroom from 'mailroom';",
        '(globalThis as { seen?: unknown }).seen = mailroom;',
        "export default mailroom.defineMailroom({ domains: ['shop.test'], routes: [] });",
        '',
      ].join('\n'),
    );
    const lib = (path: string) => JSON.stringify(pathToFileURL(join(projectRoot, path)).href);
    const script = [
      `const { loadConfig } = await import(${lib('lib/config/load-config.ts')});`,
      `const mailroom = await import(${lib('lib/index.ts')});`,
      "await loadConfig('identity.config.ts');",
      'const seen = globalThis.seen;',
      'const same = Object.keys(mailroom).every((k) => seen[k] === mailroom[k]);',
      'console.log(JSON.stringify({ same, count: Object.keys(seen).length }));',
    ].join('\n');
    // As readConfigSummary (cdk/config-summary.ts) starts its child node from the sources.
    const tsx = pathToFileURL(createRequire(join(projectRoot, 'package.json')).resolve('tsx')).href;
    const r = await run(['--import', tsx, '--input-type=module', '-e', script]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ same: true, count: expect.any(Number) });
    expect(JSON.parse(r.stdout).count).toBeGreaterThan(10);
  });
});
