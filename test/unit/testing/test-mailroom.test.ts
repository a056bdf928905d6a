import { describe, expect, it } from 'vitest';
import { type HandlerContext, handler, mailbox } from '../../../lib/index.ts';
import { createTestMailroom } from '../../../lib/testing/index.ts';

describe('mailroom/testing', () => {
  it('runs a fixture through the real pipeline in memory', async () => {
    const seen: HandlerContext[] = [];
    const mr = await createTestMailroom({
      domains: ['example.com'],
      routes: [
        { match: 'support@example.com', action: mailbox('support') },
        { match: 'ticket+{id}@example.com', action: handler((ctx) => void seen.push(ctx), 'ticket') },
      ],
    });
    try {
      const d = await mr.deliver('From: a@b.test\nSubject: Hi\n\nHello\n', {
        to: ['support@example.com', 'ticket+42@example.com', 'nobody@example.com'],
      });
      expect(d.status).toBe('processed');
      expect(d.refused).toMatchObject([{ recipient: 'nobody@example.com', code: 550 }]);
      expect(d.deliveries.map((x) => [x.route, x.status])).toEqual([
        ['route-0', 'delivered'],
        ['route-1', 'delivered'],
      ]);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.params).toEqual({ id: '42' });
      expect(seen[0]!.message.subject).toBe('Hi');
      expect((await mr.mailbox('support')).map((e) => e.messageId)).toEqual([d.id]);
    } finally {
      await mr.close();
    }
  });

  it('takes scan verdicts, so when.spam routes and ctx.auth.spam can be tested', async () => {
    const seen: HandlerContext[] = [];
    const mr = await createTestMailroom({
      domains: ['example.com'],
      routes: [
        {
          name: 'quarantine',
          match: 'support@example.com',
          when: { spam: 'fail' },
          action: mailbox('quarantine'),
        },
        { name: 'support', match: 'support@example.com', action: handler((ctx) => void seen.push(ctx), 'h') },
      ],
    });
    try {
      const spam = await mr.deliver('From: a@b.test\nSubject: Win\n\nMoney\n', {
        to: 'support@example.com',
        ip: '192.0.2.1',
        spam: { verdict: 'fail', scanner: 'rspamd', action: 'reject', score: 15 },
      });
      expect(spam.deliveries.map((x) => x.route)).toEqual(['quarantine']);
      expect(spam.auth).toMatchObject({
        spf: { clientIp: '192.0.2.1' },
        spam: { verdict: 'fail' },
        virus: null,
      });
      expect(spam.auth?.scanOnly).toBeUndefined();
      const ham = await mr.deliver('From: a@b.test\nSubject: Hi\n\nHello\n', {
        to: 'support@example.com',
        spam: { verdict: 'pass' },
        virus: { verdict: 'pass' },
      });
      expect(ham.deliveries.map((x) => x.route)).toEqual(['support']);
      expect(seen[0]?.auth).toMatchObject({ spam: { verdict: 'pass' }, virus: { verdict: 'pass' } });
    } finally {
      await mr.close();
    }
  });

  it('shows a failing handler as failed, and replay after the fix', async () => {
    let broken = true;
    const mr = await createTestMailroom({
      domains: ['example.com'],
      delivery: { attempts: 2 },
      routes: [
        {
          name: 'orders',
          match: 'orders@example.com',
          action: handler(() => {
            if (broken) throw new Error('down');
          }),
        },
      ],
    });
    try {
      const d = await mr.deliver('Subject: order\n\n1\n', { to: 'orders@example.com' });
      expect(d.status).toBe('failed');
      expect(d.deliveries[0]).toMatchObject({
        status: 'failed',
        attempts: 2,
        error: expect.stringContaining('down'),
      });
      broken = false;
      expect((await mr.replay(d.id)).status).toBe('processed');
    } finally {
      await mr.close();
    }
  });

  it('authenticates against the config zone when given a client address, never touching real DNS', async () => {
    const seen: HandlerContext[] = [];
    const mr = await createTestMailroom({
      domains: ['example.com'],
      auth: {
        dns: {
          'sender.test': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
          '_dmarc.sender.test': { TXT: ['v=DMARC1; p=quarantine'] },
        },
      },
      routes: [
        {
          name: 'invoices',
          match: 'invoices@example.com',
          when: { auth: { dmarc: 'pass' } },
          action: handler((ctx) => void seen.push(ctx), 'invoice'),
        },
        { name: 'review', match: 'invoices@example.com', action: mailbox('review') },
      ],
    });
    try {
      const raw = 'From: a@sender.test\nSubject: Invoice\n\nPay\n';
      const good = await mr.deliver(raw, {
        to: 'invoices@example.com',
        from: 'a@sender.test',
        ip: '192.0.2.9',
        helo: 'mx.sender.test',
      });
      expect(good.auth).toMatchObject({
        spf: { result: 'pass', helo: 'mx.sender.test' },
        dmarc: { result: 'pass' },
      });
      expect(good.deliveries.map((d) => d.route)).toEqual(['invoices']);
      expect(seen[0]?.auth.dmarc.result).toBe('pass');
      expect(good.trace).toContainEqual(
        expect.objectContaining({ step: 'authenticated', detail: 'spf=pass dkim=none dmarc=pass arc=none' }),
      );

      const bad = await mr.deliver(raw, {
        to: 'invoices@example.com',
        from: 'a@sender.test',
        ip: '203.0.113.5',
      });
      expect([bad.auth?.spf.result, bad.auth?.dmarc.result]).toEqual(['fail', 'fail']);
      expect(bad.deliveries.map((d) => d.route)).toEqual(['review']);

      // Without a client address nothing is checked: verdicts none, saying why.
      const unchecked = await mr.deliver(raw, { to: 'invoices@example.com', from: 'a@sender.test' });
      expect(unchecked.auth?.dmarc).toMatchObject({
        result: 'none',
        comment: expect.stringMatching(/not received over SMTP/),
      });
      expect(unchecked.deliveries.map((d) => d.route)).toEqual(['review']);
    } finally {
      await mr.close();
    }
  });
});
