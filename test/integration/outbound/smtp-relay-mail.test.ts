import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../lib/kernel/index.ts';
import { parseMessage } from '../../../lib/message/parse-message.ts';
import { OutboundError } from '../../../lib/outbound/errors.ts';
import { replyKey } from '../../../lib/outbound/reply-id.ts';
import { createReplyFunction } from '../../../lib/outbound/send-reply.ts';
import { SmtpRelayMail } from '../../../lib/outbound/smtp-relay-mail.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';
import { dmarcPass } from '../../support/verdicts.ts';
import { type SmtpSink, startSmtpSink } from './smtp-sink.ts';

const original = Buffer.from(
  [
    'From: Ada Lovelace <ada@example.net>',
    'Reply-To: "Ada L." <ada+replies@example.net>',
    'To: support@example.com',
    'Subject: Printer on fire',
    'Message-ID: <CAJ2kQ7vN3x0Yk@mail.gmail.com>',
    'References: <root@mail.gmail.com>',
    'In-Reply-To: <root@mail.gmail.com>',
    'Date: Wed, 01 May 2024 12:00:00 +0000',
    '',
    'Help!',
    '',
  ].join('\r\n'),
);

describe('SmtpRelayMail against a real SMTP server', () => {
  let sink: SmtpSink;
  let relay: SmtpRelayMail;
  let store: SqliteMessageStore;
  const auth = { user: 'relay', pass: 's3cret' };

  beforeEach(async () => {
    sink = await startSmtpSink({ auth });
    relay = new SmtpRelayMail({ host: '127.0.0.1', port: sink.port, ignoreTLS: true, auth, timeoutMs: 5000 });
    store = new SqliteMessageStore(':memory:');
    await store.recordReceived({
      id: 'msg1',
      receivedAt: '2024-05-01T12:00:00.000Z',
      envelope: { mailFrom: 'bounces@mail.example.net', rcptTo: ['support@example.com'] },
      size: original.length,
    });
  });
  afterEach(async () => {
    await relay.close();
    await sink.close();
    await store.close();
  });

  const replyFn = async (key = 'msg1:r0.a0:handler') =>
    createReplyFunction(
      {
        id: 'msg1',
        envelope: { mailFrom: 'bounces@mail.example.net', rcptTo: ['support@example.com'] },
        message: await parseMessage(original),
        auth: dmarcPass('example.net'),
        idempotencyKey: key,
      },
      {
        outbound: relay,
        from: { address: 'support@example.com', name: 'Example Support' },
        store,
        logger: silentLogger,
      },
    );

  it('delivers a correct reply: envelope, threading headers, Auto-Submitted, authenticated', async () => {
    const result = await (await replyFn())({ text: 'We are on it.' });
    expect(result).toMatchObject({ skipped: false, duplicate: false, to: ['ada+replies@example.net'] });
    expect(sink.received).toHaveLength(1);
    const got = sink.received[0]!;
    expect(got.user).toBe('relay');
    expect(got.from).toBe('support@example.com');
    expect(got.to).toEqual(['ada+replies@example.net']); // Reply-To, not From, not the envelope sender
    const parsed = await parseMessage(got.raw);
    const id = replyKey('msg1:r0.a0:handler', 1);
    expect(parsed.messageId).toBe(`<${id}@example.com>`);
    expect(parsed.from).toEqual({ address: 'support@example.com', name: 'Example Support' });
    expect(parsed.to).toEqual([{ address: 'ada+replies@example.net', name: 'Ada L.' }]);
    expect(parsed.subject).toBe('Re: Printer on fire');
    expect(parsed.inReplyTo).toBe('<CAJ2kQ7vN3x0Yk@mail.gmail.com>');
    expect(parsed.references).toEqual(['<root@mail.gmail.com>', '<CAJ2kQ7vN3x0Yk@mail.gmail.com>']);
    expect(parsed.headers.find((h) => h.key === 'auto-submitted')?.value).toBe('auto-replied');
    expect(parsed.text?.trim()).toBe('We are on it.');
    // the reply lands in the thread of the original, as the parser sees it
    expect(parsed.thread.id).toBe((await parseMessage(original)).thread.id);
    // recorded as sent over SMTP, with the exact bytes
    const entry = await store.getOutboxEntry(id);
    expect(entry).toMatchObject({ transport: 'smtp', inReplyTo: 'msg1' });
    expect(entry!.raw.toString().trim()).toBe(got.raw.toString().trim());
  });

  it('sends once across a failed attempt, a retry and a replay', async () => {
    sink.failNext = 1;
    const err = await (await replyFn())({ text: 'try 1' }).catch((e) => e);
    expect(err).toBeInstanceOf(OutboundError);
    expect(err.responseCode).toBe(451);
    expect(await store.listOutbox()).toEqual([]); // not sent: the retry must send it
    const retry = await (await replyFn())({ text: 'try 2' });
    expect(retry).toMatchObject({ skipped: false, duplicate: false });
    const replay = await (await replyFn())({ text: 'try 3' });
    expect(replay).toMatchObject({ skipped: false, duplicate: true });
    expect(sink.received).toHaveLength(1);
    expect(sink.received[0]!.raw.toString()).toContain('try 2');
  });

  it('fails with the SMTP code when every recipient is refused, reports partial refusals', async () => {
    sink.refuse.add('ada+replies@example.net');
    const err = await (await replyFn())({ text: 'x' }).catch((e) => e);
    expect(err).toBeInstanceOf(OutboundError);
    expect(err.message).toMatch(/SMTP relay 127\.0\.0\.1:\d+: .*550/);
    expect(err.responseCode).toBe(550);

    const raw = Buffer.from('From: support@example.com\r\nMessage-ID: <p1@example.com>\r\n\r\nhi\r\n');
    const result = await relay.send(raw, {
      from: 'support@example.com',
      to: ['ada+replies@example.net', 'bob@example.net'],
    });
    expect(result).toEqual({ messageId: '<p1@example.com>', rejected: ['ada+replies@example.net'] });
    expect(sink.received.map((m) => m.to)).toEqual([['bob@example.net']]);
  });

  it('fails on wrong credentials and on an unreachable relay', async () => {
    const wrong = new SmtpRelayMail({
      host: '127.0.0.1',
      port: sink.port,
      ignoreTLS: true,
      auth: { user: 'relay', pass: 'nope' },
    });
    const raw = Buffer.from('From: support@example.com\r\n\r\nhi\r\n');
    const envelope = { from: 'support@example.com', to: ['ada@example.net'] };
    await expect(wrong.send(raw, envelope)).rejects.toMatchObject({
      name: 'OutboundError',
      responseCode: 535,
    });
    await wrong.close();
    const closed = await startSmtpSink();
    const port = closed.port;
    await closed.close();
    const gone = new SmtpRelayMail({ host: '127.0.0.1', port, ignoreTLS: true, timeoutMs: 2000 });
    await expect(gone.send(raw, envelope)).rejects.toBeInstanceOf(OutboundError);
    await gone.close();
    expect(sink.received).toEqual([]);
  });
});
