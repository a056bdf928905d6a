import { join } from 'node:path';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { CDK_DIR, MAILROOM_ENTRIES } from './package-files.ts';

/**
 * Packages the processor's bundle leaves out (kept in step with `processor-side-packages.mjs`, which builds
 * them beside the bundle): mailauth, nodemailer's MailComposer and the SDK clients of the lambda(),
 * eventBridge() and forward() actions, and lib-storage (S3RawStore's multipart uploads and the
 * processor's attachment uploads) load on first use only; iconv-lite and
 * encoding-japanese hold charset tables loaded per charset. esbuild is `loadConfig`'s (it bundles a config file
 * at load), never used in a Lambda, which imports the config bundled in: left out so that the bundle keeps
 * `loadConfig`'s `import('esbuild')` unresolved rather than bundling esbuild.
 */
export const PROCESSOR_EXTERNAL_MODULES: readonly string[] = [
  'mailauth',
  'nodemailer/lib/mail-composer',
  '@aws-sdk/client-lambda',
  '@aws-sdk/client-eventbridge',
  '@aws-sdk/client-sesv2',
  '@aws-sdk/lib-storage',
  'iconv-lite',
  'encoding-japanese',
  'esbuild',
];

/** Lets bundled CommonJS code `require()` Node built-ins and the side packages from the ESM bundle. */
const REQUIRE_BANNER =
  "import{createRequire as __mailroomCreateRequire}from'node:module';const require=__mailroomCreateRequire(import.meta.url);";

/**
 * Packages replaced by stubs in the processor bundle (`cdk/processor-stubs/`): mailparser's text↔HTML
 * converters, which Mailroom never asks for (it parses with `skipHtmlToText` and `skipTextToHtml`). Saves
 * ≈0.2 MB and the linkifier mailparser builds at load. test/cdk/processor-bundling.test.ts checks that a
 * bundle with the stubs parses exactly as the unbundled parser does.
 */
export function processorStubs(): Record<string, string> {
  // Beside this module: cdk/ here, dist/cdk/ in an installed package (the build copies them).
  const stubs = join(CDK_DIR, 'processor-stubs');
  return {
    'linkify-it': join(stubs, 'linkify-it.mjs'),
    'html-to-text': join(stubs, 'html-to-text.mjs'),
  };
}

export interface ProcessorBundlingOptions {
  /** The user's Mailroom config module, bundled in place of `mailroom-config`. */
  readonly configFile: string;
}

/**
 * How the processor is bundled, offline and without Docker (local esbuild): one minified ESM file with the
 * user's config and handlers (`mailroom-config` aliased to `configFile`; the config's `mailroom` imports
 * aliased to the running Mailroom's own modules, so config and processor share one copy), the AWS SDK
 * included (the versions installed beside Mailroom, not whatever the runtime ships), ESM entry points of packages preferred so that
 * unused code is dropped, and the side packages built next to it (`node_modules/`). No source map: with
 * `--enable-source-maps` Node reads the map (≈8 MB) at cold start.
 */
export function processorBundling(options: ProcessorBundlingOptions): BundlingOptions {
  return lambdaBundling({
    'mailroom-config': options.configFile,
    ...MAILROOM_ENTRIES,
    ...processorStubs(),
  });
}

/**
 * How the read API Lambda (`functions/read-api.ts`) is bundled: as the processor (one minified ESM file,
 * the installed AWS SDK included, local esbuild, no source map), without a user config (reading needs
 * none). The side packages are built beside it too: the message module it shares with the processor
 * names them (loaded on first use; the read API never parses mail).
 */
export function readApiBundling(): BundlingOptions {
  return lambdaBundling(processorStubs());
}

/** One minified ESM file with the installed AWS SDK, `aliases` as esbuild `--alias`es, side packages beside. */
function lambdaBundling(aliases: Record<string, string>): BundlingOptions {
  return {
    format: OutputFormat.ESM,
    target: 'node22',
    minify: true,
    sourceMap: false,
    mainFields: ['module', 'main'],
    externalModules: [...PROCESSOR_EXTERNAL_MODULES],
    banner: REQUIRE_BANNER,
    esbuildArgs: Object.fromEntries(Object.entries(aliases).map(([name, file]) => [`--alias:${name}`, file])),
    forceDockerBundling: false,
    commandHooks: sidePackageHooks(),
  };
}

function sidePackageHooks(): NonNullable<BundlingOptions['commandHooks']> {
  const sidePackages = join(CDK_DIR, 'processor-side-packages.mjs');
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (_inputDir: string, outputDir: string) => [
      `node ${JSON.stringify(sidePackages)} ${JSON.stringify(outputDir)}`,
    ],
  };
}
