import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type MailroomProcess,
  mailroomBin,
  projectRoot,
  startMailroomProcess,
  waitFor,
} from '../support/mailroom-process.ts';
import { TEST_REPLY_KEY } from '../support/reply-key.ts';

async function mailroom(args: string[], input?: string, cwd = projectRoot) {
  const env = { ...process.env };
  delete env.MAILROOM_CONFIG;
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      [mailroomBin, ...args],
      { cwd, env, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

const dir = mkdtempSync(join(tmpdir(), 'mailroom-cli-'));
const eml = join(dir, 'hello.eml');
writeFileSync(
  eml,
  'From: "Grace Hopper" <grace@navy.test>\r\nTo: support@example.com\r\nSubject: Bug report\r\nDate: Tue, 9 Sep 1947 15:45:00 -0400\r\nMessage-ID: <moth@navy.test>\r\n\r\nFound a moth in relay 70.\r\n',
);
const broken = join(dir, 'broken.eml');
writeFileSync(
  broken,
  'Subject: =?utf-8?B?broken\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nunterminated',
);

describe('mailroom parse', () => {
  it('prints one ParsedMessage as JSON', async () => {
    const r = await mailroom(['parse', eml]);
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout);
    expect(parsed).toMatchObject({
      messageId: expect.stringContaining('moth@navy.test'),
      subject: 'Bug report',
      from: { address: 'grace@navy.test', name: 'Grace Hopper' },
      to: [{ address: 'support@example.com', name: '' }],
      date: '1947-09-09T19:45:00.000Z',
      problems: [],
    });
    for (const key of [
      'cc',
      'replyTo',
      'inReplyTo',
      'references',
      'text',
      'html',
      'attachments',
      'headers',
      'reply',
      'thread',
    ]) {
      expect(parsed).toHaveProperty(key);
    }
  });

  it('exits 0 for malformed mail and lists problems', async () => {
    const r = await mailroom(['parse', broken]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).problems.length).toBeGreaterThan(0);
  });

  it('reads stdin with -', async () => {
    const r = await mailroom(['parse', '-'], 'Subject: piped\r\n\r\nbody\r\n');
    expect(JSON.parse(r.stdout).subject).toBe('piped');
  });

  it('prints NDJSON with a file field for several files, in order', async () => {
    const r = await mailroom(['parse', eml, broken, eml]);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.file)).toEqual([eml, broken, eml]);
  });

  it('exits 2 with one line for a missing file', async () => {
    const r = await mailroom(['parse', join(dir, 'missing.eml')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no such file/);
    expect(r.stdout).toBe('');
  });

  it('adds no auth without --auth, and refuses --ip without it', async () => {
    expect(JSON.parse((await mailroom(['parse', eml])).stdout)).not.toHaveProperty('auth');
    const r = await mailroom(['parse', eml, '--ip', '192.0.2.1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--ip needs --auth/);
  });

  it('--auth adds the verdicts, DNS from the --dns zone file', async () => {
    const zone = join(dir, 'zone.json');
    writeFileSync(
      zone,
      JSON.stringify({
        'navy.test': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
        '_dmarc.navy.test': { TXT: ['v=DMARC1; p=reject'] },
      }),
    );
    const args = [
      'parse',
      eml,
      '--auth',
      '--dns',
      zone,
      '--mail-from',
      'grace@navy.test',
      '--helo',
      'mail.navy.test',
    ];
    const pass = await mailroom([...args, '--ip', '192.0.2.1']);
    expect(pass.code).toBe(0);
    const parsed = JSON.parse(pass.stdout);
    expect(parsed.subject).toBe('Bug report');
    expect(parsed.auth).toMatchObject({
      source: 'mailauth',
      spf: { result: 'pass', domain: 'navy.test', clientIp: '192.0.2.1', helo: 'mail.navy.test' },
      dkim: [],
      dmarc: { result: 'pass', domain: 'navy.test', policy: 'reject' },
    });
    const fail = JSON.parse((await mailroom([...args, '--ip', '198.51.100.1'])).stdout);
    expect([fail.auth.spf.result, fail.auth.dmarc.result]).toEqual(['fail', 'fail']);
    // NDJSON: every line gets its verdicts.
    const lines = (await mailroom([...args, '--ip', '192.0.2.1', eml])).stdout.trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).auth.spf.result)).toEqual(['pass', 'pass']);
    const bad = await mailroom(['parse', eml, '--auth', '--dns', join(dir, 'nope.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no such DNS zone file/);
  });
});

describe('mailroom route', () => {
  it('prints the decision per recipient without delivering', async () => {
    const r = await mailroom([
      'route',
      eml,
      '--config',
      'examples/mailroom.config.ts',
      '--rcpt',
      'support+vip@example.com',
      '--rcpt',
      'nobody@example.com',
      '--rcpt',
      'x@gmail.com',
      '--rcpt',
      'reply+abc@example.com',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.recipients).toMatchObject([
      {
        recipient: 'support+vip@example.com',
        accepted: true,
        matches: [
          { route: 'support', params: { tag: 'vip' }, actions: [{ kind: 'mailbox', mailbox: 'support' }] },
        ],
      },
      {
        recipient: 'nobody@example.com',
        accepted: false,
        code: 550,
        message: expect.stringMatching(/^5\.1\.1/),
      },
      { recipient: 'x@gmail.com', accepted: false, code: 550, message: expect.stringMatching(/^5\.7\.1/) },
      {
        // not a signed token: refused before any handler could see it
        recipient: 'reply+abc@example.com',
        accepted: false,
        code: 550,
        message: expect.stringMatching(/^5\.7\.1 /),
      },
    ]);
  });

  it('names every bad config field in one line', async () => {
    const bad = join(dir, 'bad.config.ts');
    writeFileSync(
      bad,
      "export default { domains: ['not a domain'], routes: [{ match: 'x@example.com', action: { kind: 'mailbox', mailbox: '' } }], smtp: { port: 'x' } };\n",
    );
    const r = await mailroom(['route', eml, '--config', bad, '--rcpt', 'a@example.com']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/domains\[0\].*routes\[0\]\.action\.mailbox.*smtp\.port/);
  });

  // A child process under load can be slow to start: the timeouts are generous, nothing here is timed.
  it('finds ./mailroom.config.ts without --config, and warns about a route it can never use', {
    timeout: 120_000,
  }, async () => {
    const project = mkdtempSync(join(tmpdir(), 'mailroom-cli-project-'));
    writeFileSync(
      join(project, 'mailroom.config.ts'),
      `export default {
  domains: ['example.com'],
  routes: [
    { name: 'support', match: 'support@example.com', action: { kind: 'mailbox', mailbox: 'support' } },
    { name: 'orders', match: 'orders@other.test', action: { kind: 'mailbox', mailbox: 'orders' } },
  ],
};
`,
    );
    const r = await mailroom(['route', eml, '--rcpt', 'support@example.com'], undefined, project);
    expect(r.stderr).toBe(
      "mailroom route: warning: route 'orders' matches orders@other.test, but other.test is not in domains " +
        '[example.com]: mail for it is refused at RCPT (550 5.7.1), so this pattern never matches\n',
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).recipients).toMatchObject([
      { recipient: 'support@example.com', accepted: true, matches: [{ route: 'support' }] },
    ]);
  });

  it('rejects an unknown option with a usage line', async () => {
    const r = await mailroom(['route', eml, '--bogus']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'mailroom route: unknown option --bogus\n' +
        'usage: mailroom route <file.eml> --rcpt ADDR [--rcpt ADDR…] [--from ADDR] [--config F]\n',
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('mailroom send', () => {
  let mr: MailroomProcess;
  beforeAll(async () => {
    mr = await startMailroomProcess({});
  });
  afterAll(async () => {
    await mr?.stop();
  });

  it('sends a file with an explicit envelope and reports the 250', async () => {
    const r = await mailroom(['send', eml, '--to', 'support@example.com', '--port', String(mr.smtpPort)]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      accepted: ['support@example.com'],
      response: expect.stringMatching(/^250 /),
    });
  });

  it('reports a refused recipient in one line with exit 1', async () => {
    const r = await mailroom(['send', eml, '--to', 'nobody@example.com', '--port', String(mr.smtpPort)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/550 5\.1\.1/);
  });

  it('stops on SIGTERM with exit 0', async () => {
    const other = await startMailroomProcess({});
    const code = await other.stop('SIGTERM');
    expect({ code, stderr: other.stderr() }).toEqual({ code: 0, stderr: expect.any(String) });
  });
});

describe('mailroom --version (the installed command)', () => {
  it('prints the version of package.json', { timeout: 120_000 }, async () => {
    const { version } = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8'));
    expect(await mailroom(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});

describe('unknown command', () => {
  it('exits 2', async () => {
    const r = await mailroom(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });
});

describe('mailroom smtp (the container entry command)', () => {
  it('takes its config from MAILROOM_CONFIG, accepts mail durably and stops on SIGTERM', async () => {
    const data = mkdtempSync(join(tmpdir(), 'mailroom-smtp-'));
    const child = spawn(process.execPath, [mailroomBin, 'smtp', '--port', '0', '--data', data], {
      cwd: tmpdir(),
      env: {
        ...process.env,
        MAILROOM_CONFIG: join(projectRoot, 'examples/mailroom.config.ts'),
        MAILROOM_LOG_LEVEL: 'warn',
        MAILROOM_REPLY_KEY: TEST_REPLY_KEY,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
    });
    const exited = once(child, 'exit');
    const port = await waitFor(
      async () => Number(err.match(/mailroom smtp: SMTP on [^:]+:(\d+)/)?.[1]),
      'smtp listening',
    );
    const info = await createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true }).sendMail({
      envelope: { from: 'a@sender.test', to: ['support@example.com'] },
      raw: 'Subject: via smtp\r\n\r\nhi\r\n',
    });
    const id = info.response.match(/queued as (\S+)/)![1]!;
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    // A clean stop writes the journal out: the message is a file of its own, the journal is empty.
    expect(readdirSync(join(data, 'raw'))).toContain(`${id}.eml`);
    // The production ingress authenticates at the end of DATA: our Authentication-Results header comes first.
    expect(readFileSync(join(data, 'raw', `${id}.eml`), 'utf8')).toMatch(
      /^Authentication-Results: mailroom\.local;[\s\S]*?\r\nReceived: from /,
    );
    expect(readdirSync(join(data, 'journal'))).toEqual([]);
  });
});
