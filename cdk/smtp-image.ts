import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { buildSync, type Message } from 'esbuild';
import { MailroomError } from '../lib/kernel/index.ts';
import { CDK_DIR, PACKAGE_ROOT, RUNNING_FROM_SOURCE } from './package-files.ts';

/** Where the bundled config sits in the image (`MAILROOM_CONFIG`). */
export const IMAGE_CONFIG_PATH = '/app/mailroom.config.mjs';
/** Where the Mailroom package sits in the image: the config's `import … from 'mailroom'` resolves there. */
export const IMAGE_PACKAGE_PATH = '/app/node_modules/mailroom';
/**
 * The lock file Mailroom was tested with, shipped in the package (npm never packs a root lock file): the
 * image installs Mailroom's dependencies from it with `npm ci`.
 */
export const SHIPPED_LOCK_FILE = join(CDK_DIR, 'smtp-image', 'package-lock.json');

/** Lets bundled CommonJS code `require()` Node built-ins from the ESM bundle (as in the processor). */
const REQUIRE_BANNER =
  "import{createRequire as __mailroomCreateRequire}from'node:module';const require=__mailroomCreateRequire(import.meta.url);";

/** The user's config could not be bundled; `problems` are esbuild's, `file:line:column: text`. */
export class ConfigBundleError extends MailroomError {
  override readonly name = 'ConfigBundleError';
  constructor(readonly problems: string[]) {
    super(problems.join('; '), { retryable: false });
  }
}

/**
 * The user's config and everything it imports (handlers, their packages) as one ESM file, `mailroom` and
 * `mailroom/*` left as imports: in the image they resolve to the installed Mailroom, the one `mailroom
 * smtp` runs, so the config and the server share one copy. Packages with native code cannot be bundled;
 * a config for the SMTP ingress needs only its routes (handlers run in the processor).
 * @throws ConfigBundleError
 */
export function bundleConfig(configFile: string): string {
  try {
    const result = buildSync({
      entryPoints: [configFile],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      external: ['mailroom', 'mailroom/*'],
      banner: { js: REQUIRE_BANNER },
      legalComments: 'none',
      write: false,
      outfile: 'mailroom.config.mjs',
      logLevel: 'silent',
    });
    return result.outputFiles[0]!.text;
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    if (!errors?.length) throw error;
    throw new ConfigBundleError(
      errors.map((e) =>
        e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text,
      ),
    );
  }
}

/**
 * Writes the SMTP image's Docker build context into `dir` (emptied first): a Dockerfile, the bundled config
 * (`mailroom.config.mjs`) and the running Mailroom package (`mailroom/`). Installed, that is the compiled
 * package as npm unpacked it (bin/, dist/lib/, package.json) with the shipped lock file; in this repository,
 * the sources the image compiles (`npm ci && npm run build`), as the repository's Dockerfile does.
 */
export function writeImageContext(dir: string, configFile: string): void {
  const config = bundleConfig(configFile);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'mailroom'), { recursive: true });
  writeFileSync(join(dir, 'mailroom.config.mjs'), config);
  const copy = (from: string, to = from, filter?: (src: string) => boolean) => {
    const source = join(PACKAGE_ROOT, from);
    if (existsSync(source)) cpSync(source, join(dir, 'mailroom', to), { recursive: true, filter });
  };
  const skip = (src: string) => !['node_modules', '.mailroom', '.DS_Store'].includes(basename(src));
  let locked: boolean;
  if (RUNNING_FROM_SOURCE) {
    for (const path of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'LICENSE',
    ]) {
      copy(path);
    }
    for (const folder of ['scripts', 'bin', 'lib', 'cdk', 'functions', 'examples'])
      copy(folder, folder, skip);
    locked = true;
  } else {
    for (const path of ['package.json', 'LICENSE', 'bin']) copy(path);
    copy('dist/lib', 'dist/lib', (src) => skip(src) && !src.endsWith('.d.ts'));
    locked = existsSync(SHIPPED_LOCK_FILE);
    if (locked) cpSync(SHIPPED_LOCK_FILE, join(dir, 'mailroom', 'package-lock.json'));
  }
  writeFileSync(join(dir, 'Dockerfile'), imageDockerfile({ fromSource: RUNNING_FROM_SOURCE, locked }));
}

/** The generated Dockerfile (see {@link writeImageContext}). */
export function imageDockerfile(options: { fromSource: boolean; locked: boolean }): string {
  const install = options.locked ? 'npm ci' : 'npm install';
  const prepare = options.fromSource
    ? [
        `RUN ${install} --no-audit --no-fund`,
        'COPY mailroom/ ./',
        'RUN npm run build && npm prune --omit=dev --no-audit --no-fund && rm -rf dist/cdk dist/functions',
      ]
    : [`RUN ${install} --omit=dev --no-audit --no-fund`, 'COPY mailroom/ ./'];
  return `# Generated by Mailroom's SmtpIngress: \`mailroom smtp\` (compiled JavaScript, no TypeScript at run time)
# with your config bundled into one file. Rebuilt on every synth; edit your config, not this file.
FROM node:22-bookworm-slim AS mailroom
WORKDIR /pkg
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \\
 && rm -rf /var/lib/apt/lists/*
COPY mailroom/package*.json ./
${prepare.join('\n')}

FROM node:22-bookworm-slim
ENV NODE_ENV=production \\
    MAILROOM_SMTP_HOST=0.0.0.0 \\
    MAILROOM_SMTP_PORT=2525 \\
    MAILROOM_CONFIG=${IMAGE_CONFIG_PATH}
WORKDIR /app
COPY --from=mailroom /pkg/package.json ${IMAGE_PACKAGE_PATH}/package.json
COPY --from=mailroom /pkg/bin ${IMAGE_PACKAGE_PATH}/bin
COPY --from=mailroom /pkg/dist ${IMAGE_PACKAGE_PATH}/dist
COPY --from=mailroom /pkg/node_modules ${IMAGE_PACKAGE_PATH}/node_modules
COPY mailroom.config.mjs ${IMAGE_CONFIG_PATH}
# Unprivileged port; the load balancer's port 25 listener forwards here.
EXPOSE 2525
USER node
CMD ["node", "${IMAGE_PACKAGE_PATH}/bin/mailroom.js", "smtp", "--data", "/tmp/mailroom"]
`;
}
