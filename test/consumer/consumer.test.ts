/**
 * The consumer test (`npm run test:consumer`): Mailroom as a user gets it. `npm pack`, install the tarball
 * into a fresh project outside this repository, and use it from there: plain `node` imports, the user's
 * own strict `tsc`, `mailroom dev` with the user's TypeScript config and handler, and the user's CDK app
 * (offline synth) with the constructs bundling the user's code.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/mailroom-process.ts';
import {
  lockedVersion,
  npmInstall,
  type PackedMailroom,
  packMailroom,
  run,
  startConsumerDev,
  tempProject,
  writeFiles,
} from './consumer-project.ts';

/** A string only the consumer's handler contains: it must end up in the processor's bundle. */
const MARKER = 'consumer-handler-marker-5d1c9e';
const figures: string[] = [];
let packed: PackedMailroom;
let dir: string;

const CONSUMER_FILES = (): Record<string, string> => ({
  'package.json': JSON.stringify(
    {
      name: 'mailroom-consumer',
      private: true,
      type: 'module',
      dependencies: { mailroom: `file:${packed.tarball}` },
      devDependencies: {
        typescript: lockedVersion('typescript'),
        'aws-cdk-lib': lockedVersion('aws-cdk-lib'),
        constructs: lockedVersion('constructs'),
        '@types/node': lockedVersion('@types/node'),
      },
    },
    null,
    2,
  ),
  'tsconfig.json': JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
      },
      include: ['*.ts', 'handlers/*.ts'],
    },
    null,
    2,
  ),
  'mailroom.config.ts': `import { defineMailroom, handler, lambda, mailbox } from 'mailroom';
import { onOrder } from './handlers/on-order.js';

export default defineMailroom({
  domains: ['consumer.test'],
  routes: [
    { match: 'orders+{id}@consumer.test', action: handler(onOrder) },
    { match: 'events@consumer.test', action: lambda('consumer-events-fn') },
    { match: 'support@consumer.test', action: mailbox('support') },
  ],
});
`,
  'handlers/on-order.ts': `import { appendFileSync } from 'node:fs';
import type { HandlerContext } from 'mailroom';

export async function onOrder(ctx: HandlerContext): Promise<void> {
  const line = JSON.stringify({ marker: '${MARKER}', order: ctx.params.id, subject: ctx.message.subject });
  appendFileSync(process.env.CONSUMER_OUT ?? 'handled.ndjson', line + '\\n');
}
`,
  // Uses all four entry points, type-checked by the consumer's own strict tsc.
  'entry-points.ts': `import { defineMailroom, mailbox, type ParsedMessage } from 'mailroom';
import { createTestMailroom } from 'mailroom/testing';
import type { S3RawStore } from 'mailroom/aws';
import type { MailroomPipeline } from 'mailroom/cdk';

export const config = defineMailroom({ domains: ['consumer.test'], routes: [{ match: 'a@consumer.test', action: mailbox('a') }] });
export type Uses = [ParsedMessage, S3RawStore, MailroomPipeline, typeof createTestMailroom];
`,
  'cdk/app.mjs': `import { App, Stack } from 'aws-cdk-lib';
import { MailroomPipeline, SesIngress, SmtpIngress } from 'mailroom/cdk';

const app = new App({ outdir: process.env.CDK_OUTDIR ?? 'cdk.out' });
const env = { account: '111111111111', region: 'us-east-1' };

const ses = new Stack(app, 'ConsumerSes', { env });
const sesPipeline = new MailroomPipeline(ses, 'Pipeline', { configFile: 'mailroom.config.ts' });
new SesIngress(ses, 'Ingress', { pipeline: sesPipeline, domains: ['consumer.test'] });

const smtp = new Stack(app, 'ConsumerSmtp', { env });
const smtpPipeline = new MailroomPipeline(smtp, 'Pipeline', { configFile: 'mailroom.config.ts' });
new SmtpIngress(smtp, 'Ingress', { pipeline: smtpPipeline });

app.synth();
`,
});

beforeAll(() => {
  packed = packMailroom();
  figures.push(
    `tarball: ${(packed.size / 1024).toFixed(0)} KiB packed, ${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked, ` +
      `${packed.files.length} files (pack with build: ${(packed.packMs / 1000).toFixed(1)} s)`,
  );
  dir = tempProject('mailroom-consumer-');
}, 900_000);

afterAll(() => {
  console.log(`consumer figures:\n  ${figures.join('\n  ')}`);
});

describe('the packed tarball', () => {
  it('ships the built package, its licence and CLI; no tests, benches, CI or TypeScript sources', () => {
    const files = packed.files;
    expect(files).toContain('LICENSE');
    expect(files).toContain('bin/mailroom.js');
    expect(files).toContain('dist/lib/index.js');
    expect(files).toContain('dist/lib/index.d.ts');
    expect(files).toContain('dist/cdk/index.js');
    // SmtpIngress's generated image installs Mailroom's dependencies from the lock file it was tested with.
    expect(files).toContain('dist/cdk/smtp-image/package-lock.json');
    expect(files).toContain('templates/starter/gitignore');
    expect(files.filter((f) => /^(test|bench|\.ci|examples|scripts)\//.test(f))).toEqual([]);
    // TypeScript ships only as declarations, and as the starter's own files (`mailroom init` copies them).
    const sources = files.filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.startsWith('templates/starter/'),
    );
    expect(sources).toEqual([]);
  });
});

describe('installed in a project outside the repository', () => {
  beforeAll(async () => {
    await writeFiles(dir, CONSUMER_FILES());
    const ms = npmInstall(dir);
    figures.push(`consumer install (npm install --prefer-offline): ${(ms / 1000).toFixed(1)} s`);
  }, 900_000);

  it('plain node imports mailroom and mailroom/testing (no TypeScript at run time)', () => {
    const out = run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const m = await import('mailroom'); const t = await import('mailroom/testing'); console.log(JSON.stringify([typeof m.defineMailroom, typeof t.createTestMailroom]));",
      ],
      dir,
    );
    expect(JSON.parse(out)).toEqual(['function', 'function']);
    expect(existsSync(join(dir, 'node_modules/tsx'))).toBe(false);
  });

  it("the consumer's strict tsc (NodeNext) accepts code using all four entry points", () => {
    const out = run(
      process.execPath,
      [join(dir, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', '.'],
      dir,
    );
    expect(out).toBe('');
  });

  it('mailroom --version, and --help fast enough to measure', () => {
    const bin = join(dir, 'node_modules/mailroom/bin/mailroom.js');
    expect(run(process.execPath, [bin, '--version'], dir).trim()).toMatch(/^\d+\.\d+\.\d+/);
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      expect(run(process.execPath, [bin, '--help'], dir)).toMatch(/mailroom dev/);
      times.push(performance.now() - started);
    }
    figures.push(`mailroom --help: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
  });

  it("npx mailroom dev with the consumer's TypeScript config delivers over SMTP to the consumer's handler", async () => {
    const out = join(dir, 'handled.ndjson');
    const dev = await startConsumerDev(dir, 'mailroom.config.ts', { CONSUMER_OUT: out });
    try {
      const transport = createTransport({
        host: '127.0.0.1',
        port: dev.smtpPort,
        secure: false,
        ignoreTLS: true,
      });
      await transport.sendMail({
        envelope: { from: 'buyer@shop.test', to: ['orders+4711@consumer.test'] },
        raw: 'From: buyer@shop.test\r\nTo: orders+4711@consumer.test\r\nSubject: Order 4711\r\n\r\nPlease ship.\r\n',
      });
      transport.close();
      const line = await waitFor(
        async () => (existsSync(out) ? readFileSync(out, 'utf8').trim() : null),
        'the consumer handler ran',
      );
      expect(JSON.parse(line)).toEqual({ marker: MARKER, order: '4711', subject: 'Order 4711' });
      await expectDevPageServed(`http://127.0.0.1:${dev.httpPort}`);
    } finally {
      dev.stop();
    }
  });

  describe("the consumer's CDK app (offline synth)", () => {
    let outdir: string;
    beforeAll(() => {
      outdir = join(dir, 'cdk.out');
      run(process.execPath, ['cdk/app.mjs'], dir, { env: { CDK_OUTDIR: outdir } });
    }, 600_000);

    const template = (stack: string) =>
      JSON.parse(readFileSync(join(outdir, `${stack}.template.json`), 'utf8')) as {
        Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
      };
    const assetDirs = () =>
      readdirSync(outdir)
        .filter((d) => d.startsWith('asset.'))
        .map((d) => join(outdir, d))
        .filter((d) => statSync(d).isDirectory());
    const filesUnder = (d: string): string[] =>
      readdirSync(d, { recursive: true, encoding: 'utf8' })
        .map((f) => join(d, f))
        .filter((f) => statSync(f).isFile());

    it('synthesizes MailroomPipeline + SesIngress and MailroomPipeline + SmtpIngress', () => {
      expect(
        Object.values(template('ConsumerSes').Resources).some((r) => r.Type === 'AWS::SES::ReceiptRule'),
      ).toBe(true);
      expect(
        Object.values(template('ConsumerSmtp').Resources).some((r) => r.Type === 'AWS::ECS::Service'),
      ).toBe(true);
    });

    it("the processor asset contains the consumer's handler", () => {
      const bundles = assetDirs().filter((d) => existsSync(join(d, 'index.mjs')));
      expect(bundles.length).toBeGreaterThan(0);
      expect(bundles.some((d) => readFileSync(join(d, 'index.mjs'), 'utf8').includes(MARKER))).toBe(true);
    });

    it("the SMTP image's Docker context contains the bundled consumer config", () => {
      const contexts = assetDirs().filter((d) => existsSync(join(d, 'Dockerfile')));
      expect(contexts.length).toBeGreaterThan(0);
      const withConfig = contexts.filter((d) =>
        filesUnder(d).some((f) => /\.m?js$/.test(f) && readFileSync(f, 'utf8').includes(MARKER)),
      );
      expect(withConfig.length).toBeGreaterThan(0);
    });

    it('a lambda() target yields lambda:InvokeFunction on that function only', () => {
      const policies = Object.values(template('ConsumerSes').Resources).filter(
        (r) => r.Type === 'AWS::IAM::Policy',
      );
      const statements = policies.flatMap(
        (p) =>
          (
            p.Properties.PolicyDocument as {
              Statement: Array<{ Action: string | string[]; Resource: unknown }>;
            }
          ).Statement,
      );
      const invoke = statements.filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'));
      expect(invoke).toHaveLength(1);
      const resources = JSON.stringify(invoke[0]!.Resource);
      expect(resources).toContain('function:consumer-events-fn');
      expect(resources).not.toContain('*');
    });
  });
});

describe('npx mailroom init: the starter project', () => {
  let starter: string;
  beforeAll(async () => {
    starter = join(tempProject('mailroom-init-'), 'shop-mail');
    const out = run(
      process.execPath,
      [join(dir, 'node_modules/mailroom/bin/mailroom.js'), 'init', starter, '--domain', 'shop.example'],
      dir,
    );
    expect(out).toMatch(/npm install/);
    // The starter depends on mailroom@^version from the registry; here it gets the tarball under test.
    const pkgFile = join(starter, 'package.json');
    const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies.mailroom).toBe(`^${packed.version}`);
    pkg.dependencies.mailroom = `file:${packed.tarball}`;
    writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
    const ms = npmInstall(starter);
    figures.push(`starter install (npm install --prefer-offline): ${(ms / 1000).toFixed(1)} s`);
  }, 900_000);

  it('writes the files a project needs, with the domain in its routes and tests', () => {
    for (const file of [
      'mailroom.config.ts',
      'handlers/orders.ts',
      'test/mailroom.test.ts',
      'cdk/app.ts',
      'cdk.json',
      'package.json',
      'tsconfig.json',
      '.gitignore',
      'README.md',
    ]) {
      expect(existsSync(join(starter, file)), file).toBe(true);
    }
    expect(readFileSync(join(starter, 'mailroom.config.ts'), 'utf8')).toContain("domains: ['shop.example']");
    expect(readFileSync(join(starter, 'test/mailroom.test.ts'), 'utf8')).not.toContain('{{');
  });

  it('refuses to write into a folder that is not empty', () => {
    const result = spawnSync(
      process.execPath,
      [join(dir, 'node_modules/mailroom/bin/mailroom.js'), 'init', starter],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/not empty/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('npm test passes in it (its vitest test through mailroom/testing), and so does its tsc', () => {
    const out = run('npm', ['test'], starter, { env: withoutVitest() });
    expect(out).toMatch(/3 passed/);
    expect(run('npm', ['run', 'typecheck'], starter)).not.toMatch(/error TS/);
  });

  it('npx cdk synth works offline: the SES receipt rule and the processor with its handler', () => {
    run('npx', ['cdk', 'synth', '--quiet'], starter, { env: { CDK_DISABLE_CLI_TELEMETRY: 'true' } });
    const template = JSON.parse(readFileSync(join(starter, 'cdk.out/Mailroom.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string }>;
    };
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types).toContain('AWS::SES::ReceiptRule');
    expect(types).toContain('AWS::Lambda::Function');
    const bundles = readdirSync(join(starter, 'cdk.out'))
      .map((d) => join(starter, 'cdk.out', d, 'index.mjs'))
      .filter((f) => existsSync(f));
    // The starter's handler (minified: its mailbox call survives by name).
    expect(bundles.some((f) => /mailboxes\.put\(["']orders["']/.test(readFileSync(f, 'utf8')))).toBe(true);
  });
});

/** The outer vitest's variables unset (Node leaves undefined out), so the starter's vitest runs as a user's. */
function withoutVitest(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { NODE_ENV: undefined };
  for (const key of Object.keys(process.env)) if (key.startsWith('VITEST')) env[key] = undefined;
  return env;
}

/** The dev page and the script and stylesheet it names load from the installed package (its dist assets). */
async function expectDevPageServed(base: string): Promise<void> {
  const page = await fetch(`${base}/`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
  const html = await page.text();
  const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
  expect(assets.map((a) => a.replace(/-[0-9a-f]+\./, '.'))).toEqual(['/assets/app.css', '/assets/app.js']);
  for (const asset of assets) {
    const res = await fetch(`${base}${asset}`);
    expect(res.status, asset).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/(css|javascript)/);
    expect((await res.text()).length).toBeGreaterThan(1000);
  }
}
