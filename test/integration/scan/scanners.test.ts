import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthVerdicts } from '../../../lib/auth/verdicts.ts';
import type { MailroomOptions } from '../../../lib/config/index.ts';
import { resolveConfig } from '../../../lib/config/index.ts';
import { type LocalMailroom, startLocalMailroom } from '../../../lib/dev/local-mailroom.ts';
import { handler, mailbox } from '../../../lib/index.ts';
import type { MessageDetail, MessageSummary } from '../../../lib/store/index.ts';
import { getJson, waitFor } from '../../support/mailroom-process.ts';
import {
  type Daemon,
  EICAR,
  GTUBE,
  scanDaemonsMissing,
  startClamd,
  startRspamd,
} from '../../support/scan-daemons.ts';

/**
 * Spam and virus scanning over real SMTP against the real daemons (rspamd, clamd) the tests start, through
 * the whole local Mailroom: ingress, store, processing, routing, the dev API.
 */
const missing = scanDaemonsMissing();
if (missing.length > 0) {
  console.warn(
    `scan integration tests skipped: ${missing.join(', ')} not installed (apt-get install rspamd clamav-daemon clamav)`,
  );
}

const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n');
function message(subject: string, body: string): string {
  return crlf(`From: Ada Lovelace <ada@sender.test>
To: support@example.com
Subject: ${subject}
Date: ${new Date().toUTCString()}
Message-ID: <${subject.replace(/\W/g, '')}@sender.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

${body}
`);
}
// rspamd scores a stale Date (DATE_IN_PAST) and an executable's name (MIME_BAD_EXTENSION): the clean
// message is dated now and attaches a .txt file.
function withAttachment(subject: string, content: string, filename = 'invoice.com'): string {
  return crlf(`From: Ada Lovelace <ada@sender.test>
To: support@example.com
Subject: ${subject}
Date: ${new Date().toUTCString()}
Message-ID: <${subject.replace(/\W/g, '')}@sender.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

Please see the attached file.
--b1
Content-Type: application/octet-stream; name="${filename}"
Content-Disposition: attachment; filename="${filename}"
Content-Transfer-Encoding: base64

${Buffer.from(content).toString('base64')}
--b1--
`);
}

type Detail = MessageDetail & { auth: AuthVerdicts };

describe.skipIf(missing.length > 0)('scanning with real rspamd and clamd over SMTP', () => {
  let rspamd: Daemon;
  let clamd: Daemon;
  const running: Array<{ mr: LocalMailroom; dir: string }> = [];
  const seenByHandler: AuthVerdicts[] = [];

  beforeAll(async () => {
    const [r, c] = await Promise.allSettled([startRspamd(), startClamd()]);
    if (r.status === 'fulfilled') rspamd = r.value;
    if (c.status === 'fulfilled') clamd = c.value;
    if (r.status === 'rejected') throw r.reason;
    if (c.status === 'rejected') throw c.reason;
  }, 200_000);
  afterAll(async () => {
    for (const { mr, dir } of running) {
      await mr.close();
      await rm(dir, { recursive: true, force: true });
    }
    await Promise.all([rspamd?.dispose(), clamd?.dispose()]);
  });

  async function start(
    scan: Partial<NonNullable<MailroomOptions['scan']>>,
    over: { routes?: MailroomOptions['routes']; checkAtData?: boolean; clamavSocket?: boolean } = {},
  ) {
    const dir = await mkdtemp(join(tmpdir(), 'mailroom-scan-'));
    const config = resolveConfig({
      domains: ['example.com'],
      dataDir: dir,
      routes: over.routes ?? [
        {
          match: 'support@example.com',
          action: [
            mailbox('support'),
            handler((ctx) => {
              seenByHandler.push(ctx.auth);
            }, 'capture'),
          ],
        },
      ],
      smtp: { hostname: 'mx.example.com', port: 0 },
      http: { port: 0 },
      auth: { dns: {}, ...(over.checkAtData !== undefined ? { checkAtData: over.checkAtData } : {}) },
      scan: {
        rspamd: { url: `http://127.0.0.1:${rspamd.port}`, timeoutMs: 10_000 },
        clamav: over.clamavSocket
          ? { socket: clamd.socket ?? '' }
          : { host: '127.0.0.1', port: clamd.port, timeoutMs: 10_000 },
        ...scan,
      },
    });
    const mr = await startLocalMailroom({
      config,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      smtpPort: 0,
      httpPort: 0,
    });
    running.push({ mr, dir });
    const api = `http://127.0.0.1:${mr.httpPort}`;
    const send = (raw: string) =>
      createTransport({ host: '127.0.0.1', port: mr.smtpPort, secure: false, ignoreTLS: true }).sendMail({
        envelope: { from: 'ada@sender.test', to: ['support@example.com'] },
        raw,
      });
    const processed = (id: string) =>
      waitFor(async () => {
        const m = await getJson<Detail>(`${api}/api/messages/${id}`);
        return m.status === 'processed' || m.status === 'failed' ? m : null;
      }, `message ${id} processed`);
    const list = async () => (await getJson<{ messages: MessageSummary[] }>(`${api}/api/messages`)).messages;
    return { mr, api, send, processed, list };
  }

  const idOf = (response: string) => /queued as (\S+)/.exec(response)?.[1] ?? '';
  const refusal = async (sending: Promise<unknown>) => {
    const err = (await sending.then(
      () => null,
      (e: unknown) => e,
    )) as { responseCode?: number; response?: string } | null;
    expect(err, 'the message should have been refused').not.toBeNull();
    return { code: err?.responseCode, response: err?.response ?? '' };
  };

  it('refuses GTUBE with 550 5.7.1 and stores nothing', async () => {
    const mr = await start({});
    const { code, response } = await refusal(mr.send(message('Cheap pills', GTUBE)));
    expect(code).toBe(550);
    expect(response).toMatch(/^550 5\.7\.1 /);
    expect(await mr.list()).toEqual([]);
  });

  it('refuses EICAR as an attachment with 554 5.7.1 naming the signature, and stores nothing', async () => {
    for (const clamavSocket of [false, true]) {
      const mr = await start({}, { clamavSocket });
      const { code, response } = await refusal(mr.send(withAttachment('Invoice', EICAR)));
      expect(code).toBe(554);
      expect(response).toMatch(/^554 5\.7\.1 .*virus found \(eicar\.com\.UNOFFICIAL\)/);
      expect(await mr.list()).toEqual([]);
    }
  });

  it('accepts a clean message with spam=pass and virus=pass, in the API, the trace and the handler’s ctx.auth', async () => {
    for (const checkAtData of [false, true]) {
      const mr = await start({}, { checkAtData });
      const info = await mr.send(withAttachment(`Clean ${checkAtData}`, 'just a harmless file', 'notes.txt'));
      expect(info.response).toMatch(/^250 /);
      const detail = await mr.processed(idOf(info.response));
      expect(detail.status).toBe('processed');
      expect(detail.deliveries.map((d) => d.status)).toEqual(['delivered', 'delivered']);
      expect(detail.auth.spam).toMatchObject({ verdict: 'pass', scanner: 'rspamd', action: 'no action' });
      expect(typeof detail.auth.spam?.score).toBe('number');
      expect(detail.auth.virus).toEqual({ verdict: 'pass', scanner: 'clamav' });
      // SPF/DKIM/DMARC were computed too (at DATA, or in processing after a scan-only verdict).
      expect(detail.auth.spf).toMatchObject({ result: 'none', clientIp: '127.0.0.1' });
      expect(detail.auth.scanOnly).toBeUndefined();
      expect(detail.trace.find((t) => t.step === 'authenticated')?.detail).toMatch(/spam=pass virus=pass/);
      expect(seenByHandler.at(-1)).toMatchObject({ spam: { verdict: 'pass' }, virus: { verdict: 'pass' } });
    }
  });

  it('stores GTUBE with spam=fail under the verdict-only policy', async () => {
    const mr = await start({ spamAction: 'verdict-only' });
    const info = await mr.send(message('Verdict only', GTUBE));
    expect(info.response).toMatch(/^250 /);
    const detail = await mr.processed(idOf(info.response));
    expect(detail.auth.spam).toMatchObject({ verdict: 'fail', scanner: 'rspamd', action: 'reject' });
    expect(detail.auth.spam?.symbols).toContain('GTUBE');
    expect(detail.auth.virus).toEqual({ verdict: 'pass', scanner: 'clamav' });
    expect(detail.deliveries[0]).toMatchObject({ mailbox: 'support', status: 'delivered' });
  });

  it('when.spam routes GTUBE to a quarantine mailbox, and clean mail to support', async () => {
    const mr = await start(
      { spamAction: 'verdict-only' },
      {
        routes: [
          {
            name: 'quarantine',
            match: 'support@example.com',
            when: { spam: 'fail' },
            action: mailbox('quarantine'),
          },
          { name: 'support', match: 'support@example.com', action: mailbox('support') },
        ],
      },
    );
    const spam = await mr.processed(idOf((await mr.send(message('Quarantine me', GTUBE))).response));
    expect(spam.deliveries).toEqual([
      expect.objectContaining({ route: 'quarantine', mailbox: 'quarantine', status: 'delivered' }),
    ]);
    const ham = await mr.processed(
      idOf((await mr.send(message('Hello team', 'A normal question.'))).response),
    );
    expect(ham.deliveries).toEqual([
      expect.objectContaining({ route: 'support', mailbox: 'support', status: 'delivered' }),
    ]);
    const box = await getJson<{ entries?: unknown[]; messages?: unknown[] }>(
      `${mr.api}/api/mailboxes/quarantine`,
    );
    expect(JSON.stringify(box)).toContain(spam.id);
  });

  // Last: stops rspamd.
  it('with rspamd stopped: fail-open delivers with spam=temperror (processing_failed); fail-closed answers 451 4.3.0', async () => {
    const open = await start({ rspamd: { url: `http://127.0.0.1:${rspamd.port}` } });
    const closed = await start({ failMode: 'closed' });
    await rspamd.stop();

    const info = await open.send(message('Scanner down', 'Hello while rspamd is away.'));
    expect(info.response).toMatch(/^250 /);
    const detail = await open.processed(idOf(info.response));
    expect(detail.deliveries[0]).toMatchObject({ mailbox: 'support', status: 'delivered' });
    expect(detail.auth.spam).toMatchObject({ verdict: 'temperror', scanner: 'rspamd' });
    expect(detail.auth.spam?.error).toMatch(/rspamd at http:\/\/127\.0\.0\.1:\d+: /);
    expect(detail.auth.virus).toEqual({ verdict: 'pass', scanner: 'clamav' });

    const { code, response } = await refusal(closed.send(message('Scanner down 2', 'Hello again.')));
    expect(code).toBe(451);
    expect(response).toMatch(/^451 4\.3\.0 /);
    expect(await closed.list()).toEqual([]);
  });
});
