import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handler } from '../../../lib/actions/builders.ts';
import { DeliveryError } from '../../../lib/actions/errors.ts';
import { type ActionRun, runAction } from '../../../lib/actions/run-action.ts';
import type { HandlerContext } from '../../../lib/actions/types.ts';
import { uncheckedVerdicts } from '../../../lib/auth/verdicts.ts';
import { silentLogger } from '../../../lib/kernel/index.ts';
import { parseMessage } from '../../../lib/message/parse-message.ts';
import { OutboundConfigError } from '../../../lib/outbound/errors.ts';
import { OutboxMail } from '../../../lib/outbound/outbox-mail.ts';
import { ReplyRateLimiter } from '../../../lib/outbound/reply-rate-limit.ts';
import type { ReplyResult } from '../../../lib/outbound/types.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';
import { dmarcPass } from '../../support/verdicts.ts';

const raw = Buffer.from(
  'From: Ada <ada@example.net>\r\nTo: support@example.com\r\nSubject: Hello\r\nMessage-ID: <m1@example.net>\r\n\r\nhi\r\n',
);

describe('ctx.reply in a handler', () => {
  let store: SqliteMessageStore;
  beforeEach(() => {
    store = new SqliteMessageStore(':memory:');
  });
  afterEach(async () => {
    await store.close();
  });

  const run = async (over: Partial<ActionRun> = {}): Promise<ActionRun> => ({
    messageId: 'msg1',
    envelope: { mailFrom: 'ada@example.net', rcptTo: ['support+vip@example.com'] },
    recipient: 'support+vip@example.com',
    recipients: ['support+vip@example.com'],
    message: await parseMessage(raw),
    auth: uncheckedVerdicts('test'),
    params: {},
    raw,
    route: 'support',
    idempotencyKey: 'msg1:handler:r0.a0',
    attempt: 1,
    store,
    logger: silentLogger,
    now: () => new Date('2024-05-01T12:00:00.000Z'),
    ...over,
  });

  it('fails the delivery with OutboundConfigError when no outbound mail is set up', async () => {
    const err = await runAction(
      handler((ctx) => ctx.reply({ text: 'x' }), 'replier'),
      await run(),
    ).catch((e) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err.cause).toBeInstanceOf(OutboundConfigError);
    expect(err.message).toMatch(/ctx.reply needs outbound mail/);
  });

  it('replies from the configured address, else from the recipient that routed here', async () => {
    const results: ReplyResult[] = [];
    const fn = async (ctx: HandlerContext) => {
      results.push(await ctx.reply({ text: 'Thanks!' }));
    };
    const outbound = new OutboxMail(store);
    await runAction(handler(fn, 'replier'), await run({ outbound }));
    await runAction(
      handler(fn, 'replier'),
      await run({ outbound, idempotencyKey: 'k2', replyFrom: { address: 'help@example.com', name: 'Help' } }),
    );
    const [a, b] = await Promise.all(results.map((r) => (r.skipped ? null : store.getOutboxEntry(r.id))));
    expect(a?.envelope).toEqual({ from: 'support+vip@example.com', to: ['ada@example.net'] });
    expect(b?.envelope).toEqual({ from: 'help@example.com', to: ['ada@example.net'] });
    expect(b?.messageId).toMatch(/^<[0-9a-f]{32}@example\.com>$/);
    expect((await parseMessage(b!.raw)).from).toEqual({ address: 'help@example.com', name: 'Help' });
  });

  it("answers one address chosen by ctx.auth, and counts replies across deliveries with the run's limiter", async () => {
    const hostile = Buffer.from(
      'From: Ada <ada@example.net>\r\nReply-To: v1@target.test, v2@target.test\r\nSubject: Hi\r\n\r\nhi\r\n',
    );
    const message = await parseMessage(hostile);
    const outbound = new OutboxMail(store);
    const replyLimiter = new ReplyRateLimiter({ perRecipientPerHour: 1, perMinute: 10 });
    const results: ReplyResult[] = [];
    const fn = async (ctx: HandlerContext) => {
      results.push(await ctx.reply({ text: 'Thanks!' }));
    };
    const envelope = { mailFrom: 'bounces@mail.example.net', rcptTo: ['support@example.com'] };
    const base = { outbound, message, raw: hostile, envelope, replyLimiter };
    await runAction(handler(fn, 'replier'), await run({ ...base, idempotencyKey: 'k1' }));
    await runAction(
      handler(fn, 'replier'),
      await run({ ...base, idempotencyKey: 'k2', auth: dmarcPass('example.net') }),
    );
    await runAction(handler(fn, 'replier'), await run({ ...base, idempotencyKey: 'k3' }));
    const sent = await Promise.all(results.map((r) => (r.skipped ? null : store.getOutboxEntry(r.id))));
    expect(sent.map((e) => e?.envelope.to)).toEqual([
      ['bounces@mail.example.net'],
      ['v1@target.test'],
      undefined,
    ]);
    expect(results[2]).toMatchObject({ skipped: true, rateLimit: 'recipient' });
  });
});
