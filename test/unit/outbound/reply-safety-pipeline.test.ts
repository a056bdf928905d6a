import { afterEach, describe, expect, it } from 'vitest';
import { forward, type HandlerContext, handler, type ReplyResult } from '../../../lib/index.ts';
import { createTestMailroom, type TestMailroom } from '../../../lib/testing/index.ts';

/**
 * Outbound safety through the real pipeline (mailroom/testing): real parsing, real SPF/DMARC with mailauth
 * against an in-memory zone, real routing, the outbox as the transport.
 */
describe('outbound safety through the pipeline', () => {
  let mr: TestMailroom | undefined;
  afterEach(async () => {
    await mr?.close();
    mr = undefined;
  });

  const results: ReplyResult[] = [];
  const start = async (replyLimits?: { perRecipientPerHour?: number; perMinute?: number }) => {
    results.length = 0;
    mr = await createTestMailroom({
      domains: ['example.com'],
      outbound: { from: 'Support <support@example.com>', ...(replyLimits ? { replyLimits } : {}) },
      auth: {
        dns: {
          'sender.test': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
          '_dmarc.sender.test': { TXT: ['v=DMARC1; p=reject'] },
        },
      },
      routes: [
        {
          match: 'support@example.com',
          action: handler(async (ctx: HandlerContext) => {
            results.push(await ctx.reply({ text: 'We got it.' }));
          }, 'ack'),
        },
        { match: 'fwd@example.com', action: forward('ops@example.org') },
      ],
    });
    return mr;
  };
  const outboxTo = async () => {
    const all = await mr!.outbox();
    return Promise.all(all.map(async (s) => (await mr!.outboxEntry(s.id))!.envelope.to));
  };
  // One message naming 50 third parties in Reply-To: the reflector attack.
  const reflector = (from: string) =>
    `From: ${from}\nReply-To: ${Array.from({ length: 50 }, (_, i) => `victim${i}@target.test`).join(', ')}\n` +
    'To: support@example.com\nSubject: hi\n\nhello\n';

  it('an unauthenticated message gets one reply, to its envelope sender, whatever its Reply-To says', async () => {
    await start();
    await mr!.deliver(reflector('Mallory <m@sender.test>'), {
      to: 'support@example.com',
      from: 'm@sender.test',
    });
    expect(await outboxTo()).toEqual([['m@sender.test']]);
  });

  it('a forged From (DMARC fail) is not trusted either; a DMARC pass answers the first Reply-To only', async () => {
    await start();
    const forged = await mr!.deliver(reflector('a@sender.test'), {
      to: 'support@example.com',
      from: 'a@sender.test',
      ip: '203.0.113.5',
    });
    expect(forged.auth?.dmarc.result).toBe('fail');
    const passed = await mr!.deliver(reflector('a@sender.test'), {
      to: 'support@example.com',
      from: 'a@sender.test',
      ip: '192.0.2.9',
    });
    expect(passed.auth?.dmarc.result).toBe('pass');
    expect((await outboxTo()).sort()).toEqual([['a@sender.test'], ['victim0@target.test']]);
  });

  it('replies past outbound.replyLimits are skipped, logged in the trace, and not retried', async () => {
    await start({ perRecipientPerHour: 2 });
    const deliveries = [];
    for (let i = 0; i < 4; i++) {
      deliveries.push(
        await mr!.deliver(`From: a@b.test\nSubject: ${i}\n\nhi\n`, {
          to: 'support@example.com',
          from: 'a@b.test',
        }),
      );
    }
    expect(results.map((r) => (r.skipped ? r.rateLimit : 'sent'))).toEqual([
      'sent',
      'sent',
      'recipient',
      'recipient',
    ]);
    expect(await outboxTo()).toHaveLength(2);
    const limited = deliveries[3]!;
    expect(limited.deliveries).toMatchObject([{ status: 'delivered', attempts: 1 }]);
    expect(limited.trace).toContainEqual(
      expect.objectContaining({
        step: 'reply skipped',
        detail: expect.stringContaining('rate limit: 2 replies'),
      }),
    );
  });

  it('refuses limits that are not whole positive numbers, naming the field', async () => {
    await expect(start({ perMinute: 0 })).rejects.toThrow(
      /outbound\.replyLimits\.perMinute: must be at least 1/,
    );
  });

  it('a forward carries no header injected through a bare CR, a NUL or an encoded CRLF', async () => {
    await start();
    const crlfWord = `=?UTF-8?B?${Buffer.from('x\r\nBcc: evil@target.test').toString('base64')}?=`;
    const raw = Buffer.from(
      `From: ${crlfWord} <a@b.test>\r\nTo: fwd@example.com\r\nSubject: hi\rBcc: evil@target.test\r\n` +
        `X-Tag: 1\0X-Injected: 2\r\nSubject: ${crlfWord}\r\n\r\nbody\r\n`,
      'latin1',
    );
    const d = await mr!.deliver(raw, { to: 'fwd@example.com', from: 'a@b.test' });
    expect(d.deliveries).toMatchObject([{ status: 'delivered' }]);
    const [summary] = await mr!.outbox();
    const sent = (await mr!.outboxEntry(summary!.id))!;
    expect(sent.envelope.to).toEqual(['ops@example.org']);
    const head = sent.raw.toString('latin1').slice(0, sent.raw.indexOf('\r\n\r\n'));
    expect(head).not.toMatch(/\r(?!\n)|(?<!\r)\n|\0/);
    expect(head.split(/\r\n|\r|\n/).filter((l) => /^(bcc|x-injected)\s*:/i.test(l))).toEqual([]);
  });
});
