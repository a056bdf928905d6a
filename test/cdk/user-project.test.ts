/**
 * The constructs in a user's own project, outside this repository: the processor bundles the user's
 * config, handlers and packages (their lock file, their node_modules), the grants follow the config's
 * lambda() and eventBridge() targets, and the SMTP image's generated Docker context holds the config
 * bundled into one file, which `mailroom smtp` runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventBusArn,
  findLockFile,
  lambdaTargetArn,
  MailroomPipeline,
  MailroomPropsError,
  MailroomStack,
  SesIngress,
  SmtpIngress,
} from '../../cdk/index.ts';
import { PropsProblems } from '../../cdk/props-error.ts';
import { resolveUserProject } from '../../cdk/user-project.ts';
import { expectCode, RawSmtpClient } from '../integration/smtp/helpers.ts';
import { EMULATOR_CREDENTIALS, type S3rverHandle, startS3rver } from '../support/aws-emulators.ts';
import { mailroomBin, projectRoot, waitFor } from '../support/mailroom-process.ts';
import { testStack, thrown } from './support.ts';

/** Strings only the user's handler and the user's own package contain. */
const HANDLER_MARKER = 'user-handler-marker-4f1a';
const DEP_MARKER = 'user-dep-marker-9c2e';

/** Writes `files` (relative path → content) under `dir`. */
function write(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

/**
 * A user's project in a fresh folder outside the repository: its lock file, a package of its own in
 * node_modules, a config in a subfolder importing `mailroom` and a handler that uses that package.
 */
function userProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-user-project-'));
  write(dir, {
    'package.json': JSON.stringify({ name: 'shop', private: true, type: 'module' }),
    'package-lock.json': JSON.stringify({
      name: 'shop',
      lockfileVersion: 3,
      packages: { '': { name: 'shop' } },
    }),
    'node_modules/user-dep/package.json': JSON.stringify({
      name: 'user-dep',
      version: '1.0.0',
      main: 'index.js',
    }),
    'node_modules/user-dep/index.js': `exports.depMarker = '${DEP_MARKER}';\n`,
    'mail/mailroom.config.ts': `import { defineMailroom, eventBridge, handler, lambda, mailbox } from 'mailroom';
import { onOrder } from './handlers/on-order.ts';

export default defineMailroom({
  domains: ['shop.test'],
  routes: [
    { match: 'orders@shop.test', action: handler(onOrder) },
    { match: 'events@shop.test', action: [lambda('my-fn'), eventBridge('orders-bus')] },
    { match: 'live@shop.test', action: lambda('arn:aws:lambda:eu-west-1:210987654321:function:other-fn:live') },
    { match: 'support@shop.test', action: mailbox('support') },
  ],
});
`,
    'mail/handlers/on-order.ts': `import { depMarker } from 'user-dep';
import type { HandlerContext } from 'mailroom';

export async function onOrder(ctx: HandlerContext): Promise<void> {
  console.log('${HANDLER_MARKER}', depMarker, ctx.message.subject);
}
`,
  });
  return dir;
}

const ENV = { account: '123456789012', region: 'us-east-1' };
let project: string;
beforeAll(() => {
  project = userProject();
});

describe("finding the user's project", () => {
  it('walks up from the config to the nearest lock file, whose folder is the project root', () => {
    const problems = new PropsProblems('Test');
    const found = resolveUserProject({ configFile: join(project, 'mail/mailroom.config.ts') }, problems);
    expect(found).toEqual({
      configFile: join(project, 'mail/mailroom.config.ts'),
      depsLockFilePath: join(project, 'package-lock.json'),
      projectRoot: project,
    });
    expect(() => problems.throwIfAny()).not.toThrow();
    expect(findLockFile(join(project, 'mail/handlers'))).toBe(join(project, 'package-lock.json'));
  });

  it('takes projectRoot and depsLockFilePath as given, and reports every problem at once', () => {
    const other = mkdtempSync(join(tmpdir(), 'mailroom-other-root-'));
    write(other, { 'yarn.lock': '' });
    const problems = new PropsProblems('Test');
    const found = resolveUserProject(
      { configFile: join(project, 'mail/mailroom.config.ts'), projectRoot: other },
      problems,
    );
    expect(found.depsLockFilePath).toBe(join(other, 'yarn.lock'));
    expect(found.projectRoot).toBe(other);

    const error = thrown(
      () =>
        new MailroomPipeline(testStack(), 'Pipeline', {
          configFile: join(project, 'mail/nothing.config.ts'),
          depsLockFilePath: join(project, 'package.json'),
          projectRoot: other,
          retentionDays: -1,
        }),
    ) as MailroomPropsError;
    expect(error).toBeInstanceOf(MailroomPropsError);
    expect(error.problems).toEqual([
      `configFile ${join(project, 'mail/nothing.config.ts')} does not exist`,
      `depsLockFilePath must name one of package-lock.json, yarn.lock, pnpm-lock.yaml, bun.lockb, bun.lock, got ${join(project, 'package.json')}`,
      `depsLockFilePath ${join(project, 'package.json')} must be inside projectRoot ${other}`,
      'retentionDays must be a positive integer, got -1',
    ]);
  });
});

describe('ARNs of config targets', () => {
  const stack = new Stack(new App(), 'Arns', { env: ENV });
  const arn = (value: string) => JSON.stringify(stack.resolve(value));

  it.each([
    ['my-fn', undefined, ':lambda:us-east-1:123456789012:function:my-fn"'],
    ['my-fn:live', undefined, ':lambda:us-east-1:123456789012:function:my-fn:live"'],
    ['my-fn', '7', ':lambda:us-east-1:123456789012:function:my-fn:7"'],
    ['210987654321:function:my-fn', undefined, ':lambda:us-east-1:210987654321:function:my-fn"'],
    [
      'arn:aws:lambda:eu-west-1:210987654321:function:other-fn:live',
      undefined,
      '"arn:aws:lambda:eu-west-1:210987654321:function:other-fn:live"',
    ],
  ])('lambda(%j, qualifier %j) → %s', (name, qualifier, tail) => {
    expect(arn(lambdaTargetArn(stack, name, qualifier))).toContain(tail);
  });

  it('a bus by name is in the stack account and region; an ARN is taken as it is', () => {
    expect(arn(eventBusArn(stack, 'orders-bus'))).toContain(
      ':events:us-east-1:123456789012:event-bus/orders-bus"',
    );
    const given = 'arn:aws:events:eu-west-1:210987654321:event-bus/shared';
    expect(eventBusArn(stack, given)).toBe(given);
  });
});

describe("MailroomPipeline + SesIngress in the user's project (bundled, synthesized)", () => {
  let app: App;
  let stack: Stack;
  beforeAll(() => {
    app = new App({ outdir: mkdtempSync(join(tmpdir(), 'mailroom-user-cdk-out-')) });
    stack = new Stack(app, 'Shop', { env: ENV });
    const pipeline = new MailroomPipeline(stack, 'Pipeline', {
      configFile: join(project, 'mail/mailroom.config.ts'),
    });
    new SesIngress(stack, 'Ses', { pipeline, domains: ['shop.test'] });
    app.synth();
  }, 120_000);

  it("bundles the user's handler and the user's own package into the processor", () => {
    const bundles = readdirSync(app.outdir)
      .filter((d) => d.startsWith('asset.'))
      .map((d) => join(app.outdir, d, 'index.mjs'))
      .filter((f) => existsSync(f) && readFileSync(f, 'utf8').includes(HANDLER_MARKER));
    expect(bundles).toHaveLength(1);
    const code = readFileSync(bundles[0]!, 'utf8');
    expect(code).toContain(DEP_MARKER);
    // `mailroom` resolved to Mailroom's own modules inside the bundle, not left for the runtime.
    expect(code).not.toMatch(/from\s*"mailroom"/);
  });

  it('lets the processor invoke exactly the lambda() functions and put events on exactly the eventBridge() bus', () => {
    const statements = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>,
    );
    const withAction = (action: string) => statements.filter((s) => [s.Action].flat().includes(action));
    const invoke = withAction('lambda:InvokeFunction');
    expect(invoke).toEqual([
      {
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: [
          {
            'Fn::Join': [
              '',
              ['arn:', { Ref: 'AWS::Partition' }, ':lambda:us-east-1:123456789012:function:my-fn'],
            ],
          },
          'arn:aws:lambda:eu-west-1:210987654321:function:other-fn:live',
        ],
      },
    ]);
    expect(withAction('events:PutEvents')).toEqual([
      {
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Resource: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':events:us-east-1:123456789012:event-bus/orders-bus'],
          ],
        },
      },
    ]);
  });

  it('passes the cdk-nag AWS Solutions checks', () => {
    const report = new AwsSolutionsChecks(undefined, { verbose: false }).validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });
});

describe('MailroomStack with only a configFile, as a user writes it', () => {
  it('takes the domains and the SES recipients from the config, and grants its targets', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new MailroomStack(app, 'Mailroom', {
      env: ENV,
      ingress: 'ses',
      configFile: join(project, 'mail/mailroom.config.ts'),
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::SES::ReceiptRule', {
      Rule: Match.objectLike({
        Recipients: ['orders@shop.test', 'events@shop.test', 'live@shop.test', 'support@shop.test'],
      }),
    });
    // Replies go out from the config's domain; no replyAddress, so no reply key secret.
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).toContain(':identity/shop.test');
    t.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).toContain('function:my-fn');
  });
});

describe("SmtpIngress's generated image context", () => {
  let context: string;
  let outdir: string;
  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'mailroom-user-cdk-out-'));
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'ShopSmtp', { env: ENV });
    const pipeline = new MailroomPipeline(stack, 'Pipeline', {
      configFile: join(project, 'mail/mailroom.config.ts'),
    });
    context = new SmtpIngress(stack, 'Smtp', { pipeline }).imageContext!;
    app.synth();
  }, 60_000);

  it("holds the user's config bundled into one file, mailroom left to the installed package", () => {
    const config = readFileSync(join(context, 'mailroom.config.mjs'), 'utf8');
    expect(config).toContain(HANDLER_MARKER);
    expect(config).toContain(DEP_MARKER); // the user's package, bundled in
    expect(config).toMatch(/^import \{[^}]*defineMailroom[^}]*\} from "mailroom";$/m);
    expect(config).not.toContain('import type');
  });

  it('runs the compiled mailroom smtp with that config, built without tsx', () => {
    const dockerfile = readFileSync(join(context, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('MAILROOM_CONFIG=/app/mailroom.config.mjs');
    expect(dockerfile).toContain('COPY mailroom.config.mjs /app/mailroom.config.mjs');
    expect(dockerfile).toContain('CMD ["node", "/app/node_modules/mailroom/bin/mailroom.js", "smtp"');
    // From this repository's sources: compiled in the image (the installed package copies its dist/).
    expect(dockerfile).toContain('RUN npm run build && npm prune --omit=dev');
    expect(dockerfile).not.toMatch(/\btsx\b/);
    for (const file of ['package.json', 'package-lock.json', 'bin/mailroom.js', 'lib/index.ts']) {
      expect(existsSync(join(context, 'mailroom', file)), file).toBe(true);
    }
  });

  it('is what the Docker asset stages into the cloud assembly', () => {
    const staged = readdirSync(outdir)
      .filter((d) => d.startsWith('asset.'))
      .map((d) => join(outdir, d))
      .filter((d) => existsSync(join(d, 'Dockerfile')));
    expect(staged).toHaveLength(1);
    expect(readFileSync(join(staged[0]!, 'mailroom.config.mjs'), 'utf8')).toContain(HANDLER_MARKER);
  });

  describe('the bundled config under mailroom smtp (the image layout, with s3rver for S3)', () => {
    const BUCKET = 'shop-raw';
    let s3: S3rverHandle;
    let child: ChildProcess | undefined;
    beforeAll(async () => {
      s3 = await startS3rver({ buckets: [BUCKET] });
    });
    afterAll(async () => {
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child!.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await s3?.close();
    });

    it('accepts the routed recipients at RCPT and refuses the others', async () => {
      // /app/mailroom.config.mjs beside /app/node_modules/mailroom, as in the image; here the package's
      // exports name the sources (bin/mailroom.js runs them through tsx in this repository).
      const app = mkdtempSync(join(tmpdir(), 'mailroom-image-layout-'));
      const pkg = join(app, 'node_modules/mailroom');
      mkdirSync(pkg, { recursive: true });
      symlinkSync(join(projectRoot, 'lib'), join(pkg, 'lib'));
      writeFileSync(
        join(pkg, 'package.json'),
        JSON.stringify({
          name: 'mailroom',
          type: 'module',
          exports: {
            '.': './lib/index.ts',
            './testing': './lib/testing/index.ts',
            './aws': './lib/aws/index.ts',
          },
        }),
      );
      const config = join(app, 'mailroom.config.mjs');
      writeFileSync(config, readFileSync(join(context, 'mailroom.config.mjs')));

      child = spawn(
        process.execPath,
        [
          mailroomBin,
          'smtp',
          '--config',
          config,
          '--host',
          '127.0.0.1',
          '--port',
          '0',
          '--s3-bucket',
          BUCKET,
          '--s3-endpoint',
          s3.endpoint,
          '--data',
          join(app, 'data'),
        ],
        {
          cwd: app,
          env: {
            ...process.env,
            MAILROOM_LOG_LEVEL: 'warn',
            AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
            AWS_REGION: 'us-east-1',
            AWS_EC2_METADATA_DISABLED: 'true',
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr!.on('data', (d) => {
        stderr += d;
      });
      const port = await waitFor(async () => {
        if (child!.exitCode !== null) throw new Error(`mailroom smtp exited:\n${stderr}`);
        const m = stderr.match(/mailroom smtp: SMTP on 127\.0\.0\.1:(\d+)/);
        return m ? Number(m[1]) : null;
      }, 'mailroom smtp to listen');

      const { client } = await RawSmtpClient.open(port);
      await expectCode(client.command('MAIL FROM:<buyer@customer.test>'), 250);
      await expectCode(client.command('RCPT TO:<orders@shop.test>'), 250);
      await expectCode(client.command('RCPT TO:<events@shop.test>'), 250);
      await expectCode(client.command('RCPT TO:<nobody@shop.test>'), 550);
      await expectCode(client.command('RCPT TO:<someone@elsewhere.test>'), 550);
      await expectCode(client.command('QUIT'), 221);
    }, 60_000);
  });
});
