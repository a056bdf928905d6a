import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROCESSOR_EXTERNAL_MODULES, processorStubs } from '../../cdk/processor-bundling.ts';
import { PROJECT_ROOT } from '../../cdk/project-root.ts';
import { parseMessage } from '../../lib/message/index.ts';
import { corporaDir } from '../support/corpora.ts';

type Parse = typeof parseMessage;

/** Messages that reach every branch the stubs could matter to: HTML only, links, alternatives, charsets. */
const INLINE: Record<string, string> = {
  'html-only': [
    'From: Ada <ada@sender.test>',
    'To: support@example.com',
    'Subject: HTML only',
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<p>Hello <b>there</b>, see <a href="https://example.net/x">https://example.net/x</a></p><blockquote>old</blockquote>',
    '',
  ].join('\r\n'),
  'text-with-links': [
    'From: ada@sender.test',
    'To: support@example.com',
    'Subject: links www.example.net',
    '',
    'Go to https://example.net/a?b=c or www.example.org, mail bob@example.com.',
    '',
  ].join('\r\n'),
  alternative: [
    'From: ada@sender.test',
    'To: support@example.com',
    'Subject: =?gbk?B?xOO6ww==?=',
    'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary=b',
    '',
    '--b',
    'Content-Type: text/plain; charset=iso-2022-jp',
    'Content-Transfer-Encoding: 7bit',
    '',
    '\x1b$B$3$s$K$A$O\x1b(B',
    '--b',
    'Content-Type: text/html; charset=windows-1252',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    '<p>Caf=E9 &amp; cr=E8me</p>',
    '--b--',
    '',
  ].join('\r\n'),
};

describe('the processor bundle with its stubs parses exactly like the library', () => {
  let dir: string;
  let bundled: Parse;

  beforeAll(async () => {
    // Inside the project, so the externals (iconv-lite, …) resolve from node_modules as they do beside the
    // deployed bundle.
    dir = await mkdtemp(join(PROJECT_ROOT, '.bench-bundle-test-'));
    const outfile = join(dir, 'parse.mjs');
    await build({
      stdin: {
        contents: "export { parseMessage } from './lib/message/index.ts';",
        resolveDir: PROJECT_ROOT,
        loader: 'ts',
      },
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      mainFields: ['module', 'main'],
      external: [...PROCESSOR_EXTERNAL_MODULES],
      alias: processorStubs(),
      banner: {
        js: "import{createRequire as __r}from'node:module';const require=__r(import.meta.url);",
      },
      logLevel: 'error',
    });
    const code = readFileSync(outfile, 'utf8');
    // The stubs really replaced the packages.
    expect(code).toContain('html-to-text is not part of the Mailroom processor bundle');
    expect(code).not.toContain('node_modules/linkify-it');
    bundled = ((await import(pathToFileURL(outfile).href)) as { parseMessage: Parse }).parseMessage;
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each(Object.keys(INLINE))('%s', async (name) => {
    const raw = Buffer.from(INLINE[name]!, 'binary');
    const expected = await parseMessage(raw);
    expect(expected.text ?? expected.html).toBeTruthy();
    expect(await bundled(raw)).toEqual(expected);
  });

  it('every .eml of the mailparser and stalwart corpora', async () => {
    const corpora = corporaDir();
    if (!corpora) return;
    const files = ['nodemailer-mailparser', 'stalwart-mail-parser'].flatMap((name) =>
      readdirSync(join(corpora, name), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.eml'))
        .map((f) => join(corpora, name, f)),
    );
    expect(files.length).toBeGreaterThan(100);
    for (const file of files) {
      const raw = readFileSync(file);
      expect(await bundled(raw), file).toEqual(await parseMessage(raw));
    }
  });
});

describe("the processor bundle leaves loadConfig's esbuild out", () => {
  it('keeps import("esbuild") unresolved even when a config takes all of mailroom', async () => {
    // A config that imports `* as mailroom` keeps every export, loadConfig too: its esbuild must not be
    // bundled into the Lambda (the processor imports the config bundled in and never calls loadConfig).
    const result = await build({
      stdin: {
        contents: "import * as mailroom from './lib/index.ts'; export const all = Object.keys(mailroom);",
        resolveDir: PROJECT_ROOT,
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      mainFields: ['module', 'main'],
      external: [...PROCESSOR_EXTERNAL_MODULES],
      alias: processorStubs(),
      write: false,
      logLevel: 'error',
    });
    const code = result.outputFiles[0]!.text;
    expect(code).toContain('function loadConfig(');
    expect(code).toMatch(/import\("esbuild"\)/);
    expect(code).not.toContain('node_modules/esbuild');
    expect(code).not.toContain('ESBUILD_BINARY_PATH');
  });
});
