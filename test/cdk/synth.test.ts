import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../cdk/project-root.ts';

const run = promisify(execFile);
const outRoot = mkdtempSync(join(tmpdir(), 'mailroom-synth-'));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

/** The environment of a fresh clone without AWS credentials (nothing may reach AWS or Docker). */
function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(AWS_|CDK_)/.test(key) || key === 'AWS_CA_BUNDLE') env[key] = value;
  }
  return { ...env, AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_VERSION_CHECK: 'true' };
}

async function synth(ingress: 'ses' | 'smtp') {
  const out = join(outRoot, ingress);
  const started = Date.now();
  await run(
    'npx',
    ['cdk', 'synth', '-q', '--no-notices', '-c', `ingress=${ingress}`, '-c', 'domain=example.com', '-o', out],
    { cwd: PROJECT_ROOT, env: offlineEnv(), timeout: 170_000, maxBuffer: 16 * 1024 * 1024 },
  );
  const template = JSON.parse(readFileSync(join(out, 'Mailroom.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const assets = readdirSync(out)
    .filter((name) => name.startsWith('asset.'))
    .map((name) => join(out, name));
  return { out, template, assets, seconds: (Date.now() - started) / 1000 };
}

function types(template: { Resources: Record<string, { Type: string }> }): Set<string> {
  return new Set(Object.values(template.Resources).map((r) => r.Type));
}

/**
 * The processor bundle: ESM with the require shim, the user's config aliased in, the side packages built
 * beside it (see cdk/processor-side-packages.mjs) and left out of the bundle itself.
 */
function expectProcessorBundle(assets: string[]): void {
  const bundle = assets.find((dir) => existsSync(join(dir, 'node_modules', 'mailauth', 'index.js')));
  expect(bundle, 'an asset with node_modules/mailauth/index.js').toBeDefined();
  const code = readFileSync(join(bundle!, 'index.mjs'), 'utf8');
  expect(code.startsWith("import{createRequire as __mailroomCreateRequire}from'node:module';")).toBe(true);
  expect(code).toContain('postmaster'); // a route of examples/mailroom.config.ts, bundled through the alias
  expect(code).toContain('import("mailauth")'); // loaded on first use, not at cold start
  expect(code).not.toMatch(/^import[^;]*from"mailauth"/m);
  for (const side of [
    'nodemailer/lib/mail-composer.js',
    'iconv-lite/package.json',
    '@aws-sdk/client-lambda/index.js',
  ]) {
    expect(existsSync(join(bundle!, 'node_modules', side)), side).toBe(true);
  }
}

// One real `cdk synth` per ingress: local esbuild bundling, cdk-nag as a validation plugin (findings fail
// the synth), no credentials, no Docker.
describe('npx cdk synth works offline', () => {
  it('for the SES ingress', { timeout: 180_000 }, async () => {
    const { template, assets } = await synth('ses');
    const found = types(template);
    for (const type of ['AWS::SES::ReceiptRule', 'AWS::Lambda::EventSourceMapping', 'AWS::DynamoDB::Table']) {
      expect(found.has(type), type).toBe(true);
    }
    expectProcessorBundle(assets);
  });

  it('for the SMTP ingress', { timeout: 180_000 }, async () => {
    const { template, assets } = await synth('smtp');
    const found = types(template);
    for (const type of [
      'AWS::ECS::Service',
      'AWS::ElasticLoadBalancingV2::LoadBalancer',
      'AWS::SQS::Queue',
    ]) {
      expect(found.has(type), type).toBe(true);
    }
    expectProcessorBundle(assets);
    // The image context is the one SmtpIngress generates: the compiled `mailroom smtp` (here built from
    // the sources, which the context holds) and the example config bundled into one file.
    const context = assets.find((dir) => existsSync(join(dir, 'Dockerfile')));
    expect(context).toBeDefined();
    expect(readdirSync(context!).sort()).toEqual(['Dockerfile', 'mailroom', 'mailroom.config.mjs']);
    expect(readFileSync(join(context!, 'mailroom.config.mjs'), 'utf8')).toContain('postmaster@example.com');
    expect(readFileSync(join(context!, 'Dockerfile'), 'utf8')).toContain(
      'MAILROOM_CONFIG=/app/mailroom.config.mjs',
    );
    expect(readdirSync(join(context!, 'mailroom'))).not.toContain('node_modules');
  });
});
