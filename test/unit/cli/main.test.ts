import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { actionKindNames } from '../../../lib/actions/index.ts';
import { mailroom } from '../../support/mailroom-in-process.ts';
import { projectRoot } from '../../support/mailroom-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'mailroom-main-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const version = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).version as string;

/** Every command, with the options its --help must describe. */
const COMMANDS: Record<string, string[]> = {
  dev: ['--config', '--smtp-port', '--http-port', '--data', '--dns'],
  smtp: ['--config', '--host', '--port', '--data', '--dns', '--s3-bucket', '--s3-prefix', '--s3-endpoint'],
  parse: ['--auth', '--ip', '--helo', '--mail-from', '--dns'],
  route: ['--rcpt', '--from', '--config'],
  send: ['--to', '--from', '--host', '--port'],
  replay: [
    '--failed',
    '--config',
    '--data',
    '--http-port',
    '--stack',
    '--table',
    '--bucket',
    '--region',
    '--since',
  ],
  redrive: ['--stack', '--dlq-url', '--queue-url', '--max', '--region'],
  'hash-password': [],
  init: ['--domain', '--force'],
};

describe('mailroom --version', () => {
  it.each([['--version'], ['-v'], ['version']])('%s prints the package version', async (flag) => {
    expect(await mailroom([flag])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});

describe('mailroom <command> --help', () => {
  it.each(Object.entries(COMMANDS))('%s: its usage and a line for each option', async (name, options) => {
    const r = await mailroom([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^usage: mailroom ${name}\\b`));
    for (const option of [...options, '--help']) {
      // `--name [VALUE]` then at least two spaces and a description
      expect(r.stdout).toMatch(new RegExp(`\\n  (-h, )?${option}( \\S+)?  +\\S`));
    }
    // -h and `mailroom help <command>` say the same
    expect(await mailroom([name, '-h'])).toEqual(r);
    expect(await mailroom(['help', name])).toEqual(r);
  });

  it('--help wins over other mistakes on the line', async () => {
    const r = await mailroom(['route', '--bogus', 'a', 'b', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: mailroom route /);
  });

  it('the top-level help lists every command with its usage', async () => {
    const r = await mailroom(['--help']);
    expect(r.code).toBe(0);
    // A long usage line is broken before a '[' onto an indented line.
    const unwrapped = (text: string) => text.replace(/\n +(?=\[)/g, ' ');
    for (const name of Object.keys(COMMANDS)) {
      const usage = unwrapped((await mailroom([name, '--help'])).stdout).split('\n')[0]!;
      expect(unwrapped(r.stdout)).toContain(`  ${usage.replace(/^usage: /, '')}\n`);
    }
    expect(r.stdout).toContain('mailroom --version');
    expect(await mailroom(['help'])).toEqual(r);
  });

  it('help for an unknown command is an error', async () => {
    const r = await mailroom(['help', 'frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^mailroom: unknown command 'frobnicate'; commands: init, dev, /);
  });
});

describe('command-line mistakes: one line, the usage, exit 2', () => {
  /** The usage line of a command, as its --help shows it first. */
  const usageOf = async (name: string) =>
    (await mailroom([name, '--help'])).stdout.split('\n\n')[0]!.replace(/\n +(?=\[)/g, ' ');

  it.each(Object.keys(COMMANDS))('%s --bogus', async (name) => {
    const r = await mailroom([name, '--bogus']);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: `mailroom ${name}: unknown option --bogus\n${await usageOf(name)}\n`,
    });
  });

  it.each([
    [['dev', '--smtp-port'], 'option --smtp-port needs a value'],
    [['dev', '--smtp-port', '--data', 'x'], 'option --smtp-port needs a value'],
    [['dev', '--smtp-port', 'abc'], "--smtp-port must be a port number (0–65535), got 'abc'"],
    [['smtp', 'extra'], "unexpected argument 'extra'"],
    [['smtp', '--s3-prefix', 'x/'], '--s3-prefix needs --s3-bucket (or MAILROOM_RAW_BUCKET)'],
    [['route', '--confg', 'x.ts'], 'unknown option --confg (did you mean --config?)'],
    [['route', '-x'], 'unknown option -x'],
    [['route'], 'give one message file'],
    [['route', 'a.eml', 'b.eml'], "unexpected argument 'b.eml'"],
    [['route', 'a.eml'], 'give at least one --rcpt ADDR'],
    [
      ['send', 'a.eml', '--to', 'a@example.com', '--port', '99999'],
      "--port must be a port number (0–65535), got '99999'",
    ],
    [['parse'], 'give a file to parse (or - for stdin)'],
    [['parse', 'a.eml', '--ip', '192.0.2.1'], '--ip needs --auth'],
    [['replay'], 'give one message id or --failed'],
    [['replay', 'abc', '--failed'], 'give one message id or --failed'],
    [['init', '--force=yes'], 'option --force takes no value'],
    [['init', 'a', 'b'], "unexpected argument 'b'"],
    [
      ['init', '--domain', 'not a domain'],
      "--domain must be a domain name like example.com, got 'not a domain'",
    ],
    [['hash-password', 'secret'], "unexpected argument 'secret'"],
  ])('%j', async (argv, message) => {
    const [name] = argv as [string];
    const r = await mailroom(argv);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: `mailroom ${name}: ${message}\n${await usageOf(name)}\n`,
    });
    expect(r.stderr).not.toMatch(/To specify a positional argument|ERR_PARSE_ARGS/);
  });

  it('an option before the command, or an unknown command', async () => {
    expect(await mailroom(['--config', 'x.ts', 'dev'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^mailroom: unknown option --config \(a command comes first/),
    });
    expect(await mailroom(['frobnicate'])).toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^mailroom: unknown command 'frobnicate'; commands: /),
    });
  });
});

describe('config warnings and problems at start', () => {
  const eml = join(dir, 'hello.eml');
  writeFileSync(eml, 'From: a@sender.test\r\nSubject: hi\r\n\r\nhello\r\n');

  it('route prints a warning for a route whose domain is not in domains, and still answers', async () => {
    const config = join(dir, 'warn.config.ts');
    writeFileSync(
      config,
      `export default {
  domains: ['example.com'],
  routes: [
    { name: 'orders', match: 'orders@other.test', action: { kind: 'mailbox', mailbox: 'orders' } },
    { name: 'all', match: '*@*example.com', action: { kind: 'drop' } },
  ],
};
`,
    );
    const r = await mailroom(['route', eml, '--config', config, '--rcpt', 'orders@other.test']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      "mailroom route: warning: route 'orders' matches orders@other.test, but other.test is not in domains " +
        '[example.com]: mail for it is refused at RCPT (550 5.7.1), so this pattern never matches\n',
    );
    expect(JSON.parse(r.stdout).recipients[0]).toMatchObject({ accepted: false, code: 550 });
  });

  it('an enum field names the values allowed, every problem at once', async () => {
    const config = join(dir, 'enum.config.ts');
    writeFileSync(
      config,
      `export default {
  domains: ['example.com'],
  routes: [{ match: 'a@example.com', action: { kind: 'mailboxx', mailbox: 'a' } }],
  outbound: { mode: 'relay' },
};
`,
    );
    const r = await mailroom(['route', eml, '--config', config, '--rcpt', 'a@example.com']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `mailroom route: invalid Mailroom config: routes[0].action.kind: must be one of ${actionKindNames().join(', ')}, ` +
        "got 'mailboxx'; outbound.mode: must be one of outbox, smtp, got 'relay'\n",
    );
  });

  it('replay takes --config like dev', async () => {
    // Port 9 (discard) has no dev server, so replay works here, with the config given.
    const missing = join(dir, 'missing.config.ts');
    const r = await mailroom(['replay', '--failed', '--http-port', '9', '--config', missing]);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: `mailroom replay: config file not found: ${missing}\n`,
    });
  });
});
