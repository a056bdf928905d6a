import { readFile } from 'node:fs/promises';
import { createTestMailroom, type TestMailroom } from 'mailroom/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import config from '../mailroom.config.js';

// createTestMailroom runs your config and handlers through Mailroom's real pipeline (recipient checks,
// parsing, routing, actions with retries) in memory: no server, no disk, no DNS.
describe('mailroom.config.ts', () => {
  let mailroom: TestMailroom;
  const order = () => readFile(new URL('./fixtures/order.eml', import.meta.url));

  beforeEach(async () => {
    mailroom = await createTestMailroom(config);
  });
  afterEach(() => mailroom.close());

  it('runs the orders handler with the order number from the address', async () => {
    const delivery = await mailroom.deliver(await order(), {
      from: 'buyer@shop.test',
      to: 'orders+4711@{{domain}}',
    });

    expect(delivery.status).toBe('processed');
    expect(delivery.deliveries.map((d) => [d.route, d.status])).toEqual([['orders', 'delivered']]);
    const entries = await mailroom.mailbox('orders');
    expect(entries.map((e) => e.data)).toEqual([
      { order: '4711', from: 'buyer@shop.test', subject: 'Order 4711' },
    ]);
  });

  it('keeps support mail in the support mailbox', async () => {
    const delivery = await mailroom.deliver('From: someone@shop.test\nSubject: Help\n\nIt broke.\n', {
      to: 'support@{{domain}}',
    });

    expect((await mailroom.mailbox('support')).map((e) => e.messageId)).toEqual([delivery.id]);
    expect(await mailroom.mailbox('orders')).toEqual([]);
  });

  it('refuses recipients without a route before accepting the message', async () => {
    await expect(mailroom.deliver(await order(), { to: 'nobody@{{domain}}' })).rejects.toThrow(/550/);
  });
});
