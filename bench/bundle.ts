/**
 * Processor bundle benchmark: size and module-init time of the Lambda bundle that `MailroomPipeline` deploys,
 * next to a naive bundle of the same entry, measured side by side in one run.
 *
 *   npm run bench:bundle [-- --runs 15]
 *
 * - "deployed": the asset the CDK builds. A real `NodejsFunction` with `processorBundling()` is synthesized
 *   (local esbuild, offline), so this is the file Lambda runs: functions/process.ts with
 *   examples/mailroom.config.ts and its handlers, the AWS SDK included, side packages next to it.
 * - "naive": esbuild of the same entry with everything inlined (mailauth, nodemailer, all charset tables),
 *   CommonJS entry points first (esbuild's default for Node).
 *
 * Init time = a fresh `node` process timing `await import(bundle)` (what Lambda's INIT phase does with the
 * handler module), median of `--runs` processes per bundle, alternating the two. Then the deployed bundle's
 * handler processes one real SQS event against s3rver + dynalite, proving that the bundle works as built.
 *
 * Targets (issue 3): at most 1.5 MB minified and 150 ms init on this machine.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import { Architecture, type CfnFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { build } from 'esbuild';
import { processorBundling } from '../cdk/processor-bundling.ts';
import { PROJECT_ROOT } from '../cdk/project-root.ts';
import { smokeTestBundle } from './bundle-smoke.ts';

const ENTRY = join(PROJECT_ROOT, 'functions', 'process.ts');
const CONFIG = join(PROJECT_ROOT, 'examples', 'mailroom.config.ts');
const MB = 1024 * 1024;

async function dirSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** The processor asset exactly as `cdk synth` builds it. */
async function deployedBundle(outdir: string): Promise<string> {
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'BundleBench', { env: { region: 'us-east-1', account: '111111111111' } });
  const fn = new NodejsFunction(stack, 'Processor', {
    entry: ENTRY,
    handler: 'handler',
    runtime: Runtime.NODEJS_22_X,
    architecture: Architecture.ARM_64,
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
    bundling: processorBundling({ configFile: CONFIG }),
  });
  const assembly = app.synth();
  const assetPath = (fn.node.defaultChild as CfnFunction).getMetadata('aws:asset:path') as string;
  return join(assembly.directory, assetPath);
}

async function naiveBundle(outdir: string): Promise<string> {
  const outfile = join(outdir, 'naive', 'index.mjs');
  await build({
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    minify: true,
    alias: { 'mailroom-config': CONFIG },
    external: ['esbuild'],
    banner: { js: "import{createRequire}from'node:module';const require=createRequire(import.meta.url);" },
    logLevel: 'error',
  });
  return outfile;
}

/** Milliseconds a fresh Node process spends importing the module (its INIT work). */
function initTime(file: string): number {
  const script =
    'const t=process.hrtime.bigint();' +
    `await import(${JSON.stringify(file)});` +
    'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6));';
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, NODE_NO_WARNINGS: '1', AWS_REGION: 'us-east-1' },
    encoding: 'utf8',
  });
  return Number(out);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

async function main() {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
  const runs = Number(values.runs);
  const work = await mkdtemp(join(PROJECT_ROOT, '.bench-bundle-'));
  try {
    const started = Date.now();
    const assetDir = await deployedBundle(join(work, 'cdk.out'));
    const synthMs = Date.now() - started;
    const deployed = join(assetDir, 'index.mjs');
    const naive = await naiveBundle(work);

    const deployedBytes = (await stat(deployed)).size;
    const sideBytes = await dirSize(join(assetDir, 'node_modules'));
    const naiveBytes = (await stat(naive)).size;

    const times = { deployed: [] as number[], naive: [] as number[] };
    for (let i = 0; i < runs; i++) {
      const order = i % 2 ? (['naive', 'deployed'] as const) : (['deployed', 'naive'] as const);
      for (const kind of order) times[kind].push(initTime(kind === 'deployed' ? deployed : naive));
    }
    const d = median(times.deployed);
    const n = median(times.naive);

    const smoke = await smokeTestBundle(deployed);

    const pass = (ok: boolean) => (ok ? 'meets target' : 'MISSES target');
    console.log(`processor bundle (synth with local esbuild: ${(synthMs / 1000).toFixed(1)} s)`);
    console.log(
      `  deployed index.mjs: ${(deployedBytes / MB).toFixed(2)} MB minified (${pass(deployedBytes <= 1.5 * MB)} ≤ 1.5 MB); ` +
        `side packages loaded on demand: ${(sideBytes / MB).toFixed(2)} MB`,
    );
    console.log(`  naive bundle:       ${(naiveBytes / MB).toFixed(2)} MB minified`);
    console.log(
      `  module init, median of ${runs} fresh processes each (alternating): deployed ${d.toFixed(0)} ms ` +
        `(${pass(d <= 150)} ≤ 150 ms), naive ${n.toFixed(0)} ms, ratio ${(d / n).toFixed(2)}×`,
    );
    console.log(
      `  smoke: the deployed handler processed one SQS event against s3rver + dynalite in ${smoke.ms.toFixed(0)} ms ` +
        `(first invocation, cold clients): ${smoke.detail}`,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
