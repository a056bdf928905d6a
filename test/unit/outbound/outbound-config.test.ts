import { afterAll, describe, expect, it } from 'vitest';
import { mailbox } from '../../../lib/actions/builders.ts';
import { resolveConfig } from '../../../lib/config/resolve-config.ts';
import { createOutboundMail } from '../../../lib/outbound/create-outbound-mail.ts';
import { OutboundConfigError } from '../../../lib/outbound/errors.ts';
import { OutboxMail } from '../../../lib/outbound/outbox-mail.ts';
import { parseSenderAddress } from '../../../lib/outbound/sender-address.ts';
import { SmtpRelayMail } from '../../../lib/outbound/smtp-relay-mail.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';

describe('createOutboundMail', () => {
  const store = new SqliteMessageStore(':memory:');
  afterAll(async () => {
    await store.close();
  });

  it('makes the transport of each mode', async () => {
    expect(createOutboundMail({ mode: 'outbox', store })).toBeInstanceOf(OutboxMail);
    const smtp = createOutboundMail({ mode: 'smtp', smtp: { host: '127.0.0.1', port: 2526 } });
    expect(smtp).toBeInstanceOf(SmtpRelayMail);
    expect(smtp.kind).toBe('smtp');
    await smtp.close?.();
  });

  it('names what is missing', () => {
    expect(() => createOutboundMail({ mode: 'outbox' })).toThrow(OutboundConfigError);
    expect(() => createOutboundMail({ mode: 'smtp' })).toThrow(/needs smtp.host/);
    expect(() => createOutboundMail({ mode: 'carrier-pigeon' as 'smtp' })).toThrow(/unknown outbound mode/);
  });

  it('keeps an entry sent without context under a key from its Message-ID', async () => {
    const outbox = new OutboxMail(store, { now: () => new Date('2024-05-01T00:00:00.000Z') });
    const raw = Buffer.from(
      'From: a@example.com\r\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nMessage-ID: <x1@example.com>\r\n\r\nhi\r\n',
    );
    expect(await outbox.send(raw, { from: 'a@example.com', to: ['b@example.net'] })).toEqual({
      messageId: '<x1@example.com>',
    });
    const [listed] = await store.listOutbox();
    expect(listed).toMatchObject({
      messageId: '<x1@example.com>',
      subject: 'Grüße',
      inReplyTo: null,
      to: ['b@example.net'],
    });
    expect(listed!.id).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('parseSenderAddress', () => {
  it('reads a plain address or a name with an address', () => {
    expect(parseSenderAddress('support@example.com')).toEqual({ address: 'support@example.com', name: '' });
    expect(parseSenderAddress('Example Support <support@example.com>')).toEqual({
      address: 'support@example.com',
      name: 'Example Support',
    });
    expect(parseSenderAddress({ address: 'a@example.com', name: 'A' })).toEqual({
      address: 'a@example.com',
      name: 'A',
    });
  });

  it('refuses anything but one mailbox', () => {
    for (const bad of [
      '',
      'support',
      'a@example.com, b@example.com',
      'Team: a@example.com;',
      '<a@@example.com>',
      'a@-x',
    ]) {
      expect(() => parseSenderAddress(bad), bad).toThrow(OutboundConfigError);
    }
  });
});

describe('outbound.replyLimits in the config', () => {
  const base = { domains: ['example.com'], routes: [{ match: 'a@example.com', action: mailbox('a') }] };

  it('has documented defaults and takes partial overrides', () => {
    expect(resolveConfig(base).outbound.replyLimits).toEqual({ perRecipientPerHour: 10, perMinute: 60 });
    expect(
      resolveConfig({ ...base, outbound: { replyLimits: { perMinute: 5 } } }).outbound.replyLimits,
    ).toEqual({
      perRecipientPerHour: 10,
      perMinute: 5,
    });
  });

  it('names the bad field', () => {
    const bad = (replyLimits: unknown) => () => resolveConfig({ ...base, outbound: { replyLimits } });
    expect(bad({ perRecipientPerHour: 0 })).toThrow(
      /outbound\.replyLimits\.perRecipientPerHour: must be at least 1 reply to one address per hour/,
    );
    expect(bad({ perMinute: 2.5 })).toThrow(/outbound\.replyLimits\.perMinute: must be a whole number/);
    expect(bad({ perMinute: '5' })).toThrow(/outbound\.replyLimits\.perMinute: must be a number/);
    expect(bad({ perHour: 5 })).toThrow(/outbound\.replyLimits/);
  });
});
