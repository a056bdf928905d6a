import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uncheckedVerdicts } from '../../../lib/auth/verdicts.ts';
import { silentLogger } from '../../../lib/kernel/index.ts';
import { parseMessage } from '../../../lib/message/parse-message.ts';
import type { ParsedMessage } from '../../../lib/message/types.ts';
import { OutboundError } from '../../../lib/outbound/errors.ts';
import { OutboxMail } from '../../../lib/outbound/outbox-mail.ts';
import { replyKey } from '../../../lib/outbound/reply-id.ts';
import { ReplyRateLimiter } from '../../../lib/outbound/reply-rate-limit.ts';
import { createReplyFunction, type ReplyOriginal } from '../../../lib/outbound/send-reply.ts';
import type { OutboundMail } from '../../../lib/outbound/types.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';
import { dmarcPass } from '../../support/verdicts.ts';

const raw = Buffer.from(
  [
    'From: Ada Lovelace <ada@example.net>',
    'To: support@example.com',
    'Subject: Printer on fire',
    'Message-ID: <m1@example.net>',
    'References: <root@example.net>',
    '',
    'Help!',
    '',
  ].join('\r\n'),
);

describe('createReplyFunction with the outbox', () => {
  let store: SqliteMessageStore;
  let message: ParsedMessage;
  const now = () => new Date('2024-05-01T12:00:00.000Z');

  const original = (over: Partial<ReplyOriginal> = {}): ReplyOriginal => ({
    id: 'msg1',
    envelope: { mailFrom: 'ada@example.net', rcptTo: ['support@example.com'] },
    message,
    auth: uncheckedVerdicts('test'),
    idempotencyKey: 'msg1:r0.a0:handler',
    ...over,
  });
  let limiter: ReplyRateLimiter;
  const reply = (
    over: Partial<ReplyOriginal> = {},
    outbound: OutboundMail = new OutboxMail(store, { now }),
  ) =>
    createReplyFunction(original(over), {
      outbound,
      from: { address: 'support@example.com', name: 'Support' },
      store,
      logger: silentLogger,
      limiter,
      now,
    });

  beforeEach(async () => {
    limiter = new ReplyRateLimiter();
    store = new SqliteMessageStore(':memory:');
    message = await parseMessage(raw);
    await store.recordReceived({
      id: 'msg1',
      receivedAt: now().toISOString(),
      envelope: original().envelope,
      size: raw.length,
    });
  });
  afterEach(async () => {
    await store.close();
  });

  it('keeps the reply in the outbox with an id derived from the delivery key', async () => {
    const result = await reply()({ text: 'On it.' });
    const id = replyKey('msg1:r0.a0:handler', 1);
    expect(result).toEqual({
      skipped: false,
      id,
      messageId: `<${id}@example.com>`,
      to: ['ada@example.net'],
      duplicate: false,
    });
    const entry = await store.getOutboxEntry(id);
    expect(entry).toMatchObject({
      id,
      messageId: `<${id}@example.com>`,
      inReplyTo: 'msg1',
      envelope: { from: 'support@example.com', to: ['ada@example.net'] },
      subject: 'Re: Printer on fire',
      createdAt: '2024-05-01T12:00:00.000Z',
      transport: 'outbox',
    });
    const sent = await parseMessage(entry!.raw);
    expect(sent.inReplyTo).toBe('<m1@example.net>');
    expect(sent.references).toEqual(['<root@example.net>', '<m1@example.net>']);
    expect((await store.getMessage('msg1'))?.trace).toEqual([
      expect.objectContaining({
        step: 'reply sent',
        detail: expect.stringContaining('to ada@example.net via outbox'),
      }),
    ]);
  });

  it('does not send again when the handler runs again (retry or replay)', async () => {
    const first = await reply()({ text: 'On it.' });
    const again = reply(); // a new attempt of the same delivery
    const second = await again({ text: 'On it (attempt 2).' });
    expect(second).toEqual({ ...first, duplicate: true });
    const another = await again({ text: 'And a second reply.' }); // the 2nd reply of that delivery is new
    expect(another).toMatchObject({ skipped: false, duplicate: false });
    expect((await store.listOutbox()).map((e) => e.id).sort()).toEqual(
      [replyKey('msg1:r0.a0:handler', 1), replyKey('msg1:r0.a0:handler', 2)].sort(),
    );
    const firstRaw = (await store.getOutboxEntry(replyKey('msg1:r0.a0:handler', 1)))!.raw.toString();
    expect(firstRaw).toContain('On it.');
    expect(firstRaw).not.toContain('attempt 2');
    // another delivery (route, action) of the same message replies on its own
    const other = await reply({ idempotencyKey: 'msg1:r1.a0:handler' })({ text: 'Billing here.' });
    expect(other).toMatchObject({ duplicate: false, id: replyKey('msg1:r1.a0:handler', 1) });
  });

  it('skips, records nothing and traces why for mail that must not be answered', async () => {
    const bulk = await parseMessage(
      Buffer.from(`Precedence: bulk\r\nList-Id: <news.example.net>\r\n${raw.toString()}`),
    );
    expect(await reply({ message: bulk })({ text: 'x' })).toEqual({
      skipped: true,
      reason: 'the original is bulk or list mail (Precedence: bulk)',
    });
    expect(await reply({ envelope: { mailFrom: '', rcptTo: [] } })({ text: 'x', automatic: false })).toEqual({
      skipped: true,
      reason: expect.stringMatching(/null sender/),
    });
    expect(await store.listOutbox()).toEqual([]);
    expect((await store.getMessage('msg1'))?.trace.map((t) => t.step)).toEqual([
      'reply skipped',
      'reply skipped',
    ]);
  });

  describe('answers exactly one address', () => {
    // An unauthenticated message that names a victim and 60 more addresses in Reply-To: the reflector case.
    const reflector = Buffer.from(
      [
        'From: Ada Lovelace <ada@example.net>',
        `Reply-To: victim@target.test, ${Array.from({ length: 60 }, (_, i) => `v${i}@target.test`).join(', ')}`,
        'To: support@example.com',
        'Subject: Printer on fire',
        'Message-ID: <m1@example.net>',
        '',
        'Help!',
        '',
      ].join('\r\n'),
    );
    const envelope = { mailFrom: 'bounce+ada@mail.example.net', rcptTo: ['support@example.com'] };
    const sentTo = async (result: Promise<unknown>) => {
      const r = (await result) as { skipped: boolean; id?: string };
      expect(r.skipped).toBe(false);
      return (await store.getOutboxEntry(r.id!))!.envelope.to;
    };

    it('unauthenticated: the envelope sender (RFC 3834 §4), never Reply-To or From', async () => {
      const message = await parseMessage(reflector);
      expect(await sentTo(reply({ message, envelope })({ text: 'x' }))).toEqual([
        'bounce+ada@mail.example.net',
      ]);
      const trace = (await store.getMessage('msg1'))!.trace;
      expect(trace.at(-1)?.detail).toMatch(
        /to bounce\+ada@mail\.example\.net via outbox \(recipient: envelope sender\)$/,
      );
    });

    it('DMARC pass: only the first Reply-To address; without Reply-To the From', async () => {
      const message = await parseMessage(reflector);
      const auth = dmarcPass('example.net');
      expect(await sentTo(reply({ message, envelope, auth })({ text: 'x' }))).toEqual(['victim@target.test']);
      const plain = await parseMessage(raw);
      const second = reply({ message: plain, envelope, auth, idempotencyKey: 'k2' });
      expect(await sentTo(second({ text: 'x' }))).toEqual(['ada@example.net']);
    });

    it('the handler may say useReplyTo, or name the one address itself', async () => {
      const message = await parseMessage(reflector);
      const fn = reply({ message, envelope });
      expect(await sentTo(fn({ text: 'x', useReplyTo: true }))).toEqual(['victim@target.test']);
      expect(await sentTo(fn({ text: 'x', to: 'Ada@Example.net' }))).toEqual(['Ada@Example.net']);
      const named = await fn({ text: 'x', to: { address: 'ops@example.org', name: 'Ops\r\nBcc: x@y' } });
      const entry = await store.getOutboxEntry((named as { id: string }).id);
      expect(entry?.envelope.to).toEqual(['ops@example.org']);
      expect(entry!.raw.toString('latin1')).not.toMatch(/^Bcc:/im);
      expect((await parseMessage(entry!.raw)).to).toEqual([
        { address: 'ops@example.org', name: 'Ops Bcc: x@y' },
      ]);
      expect(await fn({ text: 'x', to: 'a@b.test, c@d.test' })).toEqual({
        skipped: true,
        reason: 'to "a@b.test, c@d.test" is not a plain mailbox',
      });
    });

    it('skips when the envelope sender is not a usable address and nothing is authenticated', async () => {
      const result = await reply({ envelope: { mailFrom: 'not-an-address', rcptTo: [] } })({ text: 'x' });
      expect(result).toEqual({ skipped: true, reason: expect.stringMatching(/not authenticated \(DMARC\)/) });
    });

    it('skips a handler replyTo that is not one mailbox (no header smuggling)', async () => {
      const result = await reply()({ text: 'x', replyTo: 'a@example.com\r\nBcc: evil@target.test' });
      expect(result).toEqual({
        skipped: true,
        reason: expect.stringMatching(/^replyTo .* is not one plain mailbox$/),
      });
      expect(await store.listOutbox()).toEqual([]);
    });
  });

  describe('rate limits', () => {
    it('per recipient: past the limit the reply is skipped with rateLimit, traced, and not retried', async () => {
      limiter = new ReplyRateLimiter({ perRecipientPerHour: 2, perMinute: 100 }, () => now().getTime());
      const results = [];
      for (let i = 0; i < 3; i++) results.push(await reply({ idempotencyKey: `k${i}` })({ text: 'x' }));
      expect(results.map((r) => r.skipped)).toEqual([false, false, true]);
      expect(results[2]).toEqual({
        skipped: true,
        rateLimit: 'recipient',
        reason:
          'rate limit: 2 replies to ada@example.net in the last hour (outbound.replyLimits.perRecipientPerHour)',
      });
      expect(await store.listOutbox()).toHaveLength(2);
      // another address still gets its reply
      const other = await reply({ idempotencyKey: 'k9' })({ text: 'x', to: 'grace@example.org' });
      expect(other).toMatchObject({ skipped: false });
      const steps = (await store.getMessage('msg1'))!.trace.map((t) => `${t.step}: ${t.detail}`);
      expect(steps.filter((t) => t.includes('rate limit'))).toHaveLength(1);
    });

    it('global: at most perMinute replies to anyone', async () => {
      limiter = new ReplyRateLimiter({ perRecipientPerHour: 100, perMinute: 3 }, () => now().getTime());
      const results = [];
      for (let i = 0; i < 5; i++) {
        results.push(await reply({ idempotencyKey: `k${i}` })({ text: 'x', to: `user${i}@example.org` }));
      }
      expect(results.map((r) => (r.skipped ? r.rateLimit : 'sent'))).toEqual([
        'sent',
        'sent',
        'sent',
        'global',
        'global',
      ]);
    });

    it('a retried delivery whose reply was sent is a duplicate, not another count', async () => {
      limiter = new ReplyRateLimiter({ perRecipientPerHour: 1, perMinute: 100 }, () => now().getTime());
      const first = await reply()({ text: 'x' });
      const retry = await reply()({ text: 'x' });
      expect(retry).toEqual({ ...first, duplicate: true });
    });

    it('a send that failed gives its slot back', async () => {
      limiter = new ReplyRateLimiter({ perRecipientPerHour: 1, perMinute: 100 }, () => now().getTime());
      const broken: OutboundMail = {
        send: async () => {
          throw new OutboundError('relay down');
        },
      };
      await expect(reply({}, broken)({ text: 'x' })).rejects.toThrow('relay down');
      expect(await reply()({ text: 'x' })).toMatchObject({ skipped: false });
    });
  });
});
