import { once } from 'node:events';
import { connect } from 'node:net';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replyKeys } from '../../../examples/reply-keys.ts';
import { replyAddress } from '../../../lib/routing/index.ts';
import type { MailboxEntry, MessageDetail, MessageSummary } from '../../../lib/store/index.ts';
import {
  getJson,
  type MailroomProcess,
  startMailroomProcess,
  waitFor,
} from '../../support/mailroom-process.ts';

type List = { messages: MessageSummary[] };

const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n');
function message(subject: string, to = 'support@example.com'): string {
  return crlf(`From: Ada Lovelace <ada@sender.test>
To: ${to}
Subject: ${subject}
Date: Sat, 28 Nov 2026 10:00:00 +0000
Message-ID: <${subject.replace(/\W/g, '')}@sender.test>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello from ${subject}.
..a line that starts with a dot
`);
}

describe('mailroom dev end to end (real process, real SMTP client)', () => {
  let mr: MailroomProcess;
  const send = (raw: string, to: string[], from = 'ada@sender.test') =>
    createTransport({ host: '127.0.0.1', port: mr.smtpPort, secure: false, ignoreTLS: true }).sendMail({
      envelope: { from, to },
      raw,
    });
  const processed = (id: string) =>
    waitFor(async () => {
      const m = await getJson<MessageDetail>(`${mr.api}/api/messages/${id}`);
      return m.status === 'processed' || m.status === 'failed' ? m : null;
    }, `message ${id} processed`);
  const idOf = (response: string) => {
    const m = response.match(/queued as (\S+)/);
    if (!m) throw new Error(`no id in ${response}`);
    return m[1]!;
  };

  beforeAll(async () => {
    mr = await startMailroomProcess({});
  });
  afterAll(async () => {
    await mr?.stop();
  });

  it('answers /api/health', async () => {
    expect(await getJson(`${mr.api}/api/health`)).toEqual({ ok: true });
  });

  it('accepts support@, stores it byte-exact, parses it and lists it in mailbox support', async () => {
    const raw = message('First ticket');
    const info = await send(raw, ['support@example.com']);
    expect(info.response).toMatch(/^250 /);
    const id = idOf(info.response);
    const detail = await processed(id);
    expect(detail.status).toBe('processed');
    // The SMTP client's address (and HELO) are kept: SPF is checked against them.
    expect(detail.envelope).toMatchObject({
      mailFrom: 'ada@sender.test',
      rcptTo: ['support@example.com'],
      remoteAddress: '127.0.0.1',
    });
    // Verdicts from our own checks (the tests' empty DNS zone: nothing published, nothing passes).
    expect(detail.auth).toMatchObject({
      spf: { result: 'none', clientIp: '127.0.0.1' },
      dmarc: { result: 'none' },
    });
    expect(detail.subject).toBe('First ticket');
    expect(detail.from).toEqual({ address: 'ada@sender.test', name: 'Ada Lovelace' });
    expect(detail.parsed?.text).toContain('.a line that starts with a dot');
    expect(detail.deliveries).toMatchObject([
      { recipient: 'support@example.com', action: 'mailbox', mailbox: 'support', status: 'delivered' },
    ]);
    expect(detail.trace.length).toBeGreaterThan(1);

    const stored = Buffer.from(await (await fetch(`${mr.api}/api/messages/${id}/raw`)).arrayBuffer());
    const sent = Buffer.from(raw);
    expect(stored.subarray(stored.length - sent.length).equals(sent)).toBe(true);
    const prefix = stored.subarray(0, stored.length - sent.length).toString();
    expect(prefix).toMatch(/^Received: from /);
    expect(
      prefix
        .split('\r\n')
        .filter(Boolean)
        .every((l) => /^(Received|Authentication-Results):|^[ \t]/.test(l)),
    ).toBe(true);

    const list = await getJson<List>(`${mr.api}/api/messages?mailbox=support`);
    expect(list.messages.map((m) => m.id)).toContain(id);
  });

  it('routes support+vip@ to mailbox support with tag=vip', async () => {
    const info = await send(message('VIP', 'support+vip@example.com'), ['support+vip@example.com']);
    const detail = await processed(idOf(info.response));
    expect(detail.deliveries).toMatchObject([
      { mailbox: 'support', params: { tag: 'vip' }, status: 'delivered' },
    ]);
    const list = await getJson<List>(`${mr.api}/api/messages?mailbox=support`);
    expect(list.messages.map((m) => m.id)).toContain(detail.id);
  });

  it('delivers a message for support@ and support+x@ to the mailbox once', async () => {
    const info = await send(message('Twice addressed'), ['support@example.com', 'support+x@example.com']);
    expect(info.accepted).toEqual(['support@example.com', 'support+x@example.com']);
    const detail = await processed(idOf(info.response));
    expect(detail.deliveries.filter((d) => d.mailbox === 'support')).toHaveLength(1);
    const list = await getJson<List>(`${mr.api}/api/messages?mailbox=support`);
    expect(list.messages.filter((m) => m.id === detail.id)).toHaveLength(1);
  });

  it('refuses unknown users (5.1.1) and other domains (5.7.1) at RCPT, keeps the good recipient', async () => {
    const info = await send(message('Mixed'), [
      'nobody@example.com',
      'someone@gmail.com',
      'postmaster@example.com',
    ]).catch((e) => e);
    expect(info.rejected).toEqual(['nobody@example.com', 'someone@gmail.com']);
    expect(info.rejectedErrors.map((e: { response: string }) => e.response)).toEqual([
      expect.stringMatching(/^550 5\.1\.1 /),
      expect.stringMatching(/^550 5\.7\.1 /),
    ]);
    const detail = await processed(idOf(info.response));
    expect(detail.envelope.rcptTo).toEqual(['postmaster@example.com']);
    expect(detail.deliveries).toMatchObject([{ mailbox: 'postmaster', status: 'delivered' }]);
  });

  it('accepts the null sender, and answers 452 4.5.3 to the 101st recipient', async () => {
    const sock = connect(mr.smtpPort, '127.0.0.1');
    sock.setEncoding('utf8');
    let buf = '';
    sock.on('data', (d) => {
      buf += d;
    });
    const reply = async (cmd?: string) => {
      const start = buf.length;
      if (cmd) sock.write(`${cmd}\r\n`);
      const out = await waitFor(async () => {
        const chunk = buf.slice(start);
        const lines = chunk.split('\r\n').filter(Boolean);
        const last = lines[lines.length - 1];
        return last && /^\d{3} /.test(last) ? last : null;
      }, `reply to ${cmd}`);
      buf = buf.slice(0);
      return out;
    };
    expect(await reply()).toMatch(/^220 /);
    expect(await reply('EHLO client.test')).toMatch(/^250 /);
    expect(await reply('MAIL FROM:<>')).toMatch(/^250 /);
    const codes: string[] = [];
    for (let i = 0; i < 101; i++)
      codes.push((await reply(`RCPT TO:<support+r${i}@example.com>`)).slice(0, 9));
    expect(codes.slice(0, 100).every((c) => c.startsWith('250'))).toBe(true);
    expect(codes[100]).toBe('452 4.5.3');
    sock.write('QUIT\r\n');
    sock.end();
    await once(sock, 'close');
  });

  it('keeps only the new reply text for a signed reply+{token}@ address, and refuses forged tokens', async () => {
    const to = replyAddress({ ticket: 42 }, { domain: 'example.com', ...replyKeys, expiresInSeconds: 3600 });
    const reply = crlf(`From: Ada Lovelace <ada@sender.test>
To: ${to}
Subject: Re: Ticket 42
Message-ID: <reply42@sender.test>

Thanks, that fixed it.

On Sat, 28 Nov 2026 at 10:00, Support <support@example.com> wrote:
> Please try turning it off and on again.
`);
    const detail = await processed(idOf((await send(reply, [to])).response));
    expect(detail.deliveries).toMatchObject([{ route: 'replies', action: 'handler', status: 'delivered' }]);
    const box = await getJson<List>(`${mr.api}/api/messages?mailbox=replies`);
    expect(box.messages.map((m) => m.id)).toContain(detail.id);
    const entries = await getJson<{ entries: Array<Pick<MailboxEntry, 'messageId' | 'data'>> }>(
      `${mr.api}/api/mailboxes/replies`,
    );
    expect(entries.entries.find((e) => e.messageId === detail.id)?.data).toEqual({
      ticket: 42,
      text: 'Thanks, that fixed it.',
    });

    // A forged token never reaches the handler: refused at RCPT, so the sender's MTA bounces it.
    const forged = await send(reply, ['reply+aforgedtoken@example.com']).catch(
      (e: { response: string }) => e,
    );
    expect(forged.response).toMatch(/^550 5\.7\.1 /);
  });

  it('injects a message over HTTP into the same pipeline', async () => {
    const res = await fetch(`${mr.api}/api/messages?from=bob@sender.test&to=support@example.com`, {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822' },
      body: message('Injected'),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const detail = await processed(id);
    expect(detail.subject).toBe('Injected');
    expect(detail.deliveries).toMatchObject([{ mailbox: 'support', status: 'delivered' }]);

    const refused = await fetch(`${mr.api}/api/messages?to=nobody@example.com`, {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822' },
      body: message('x'),
    });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ refused: [{ recipient: 'nobody@example.com', code: 550 }] });
  });

  it('streams events over SSE when a message arrives', async () => {
    const ctrl = new AbortController();
    const res = await fetch(`${mr.api}/api/events`, { signal: ctrl.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const got = (async () => {
      let text = '';
      while (!/event: message\.processed/.test(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString();
      }
      return text;
    })();
    await send(message('Evented'), ['support@example.com']);
    expect(await got).toMatch(/event: message\.received/);
    ctrl.abort();
  });

  it("serves a message's HTML only inside a sandbox", async () => {
    const html = crlf(`From: a@sender.test
To: support@example.com
Subject: html
Content-Type: text/html; charset=utf-8

<p>Hi</p><script>alert(1)</script><img src="https://tracker.test/pixel.gif">
`);
    const detail = await processed(idOf((await send(html, ['support@example.com'])).response));
    const res = await fetch(`${mr.api}/api/messages/${detail.id}/html`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/(^|; )sandbox(;|$)/);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain('img-src data:');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('serves a page at /', async () => {
    const res = await fetch(`${mr.api}/`);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('<title>Mailroom</title>');
  });

  it('answers 404 for an unknown message', async () => {
    const res = await fetch(`${mr.api}/api/messages/nope`);
    expect(res.status).toBe(404);
  });
});
