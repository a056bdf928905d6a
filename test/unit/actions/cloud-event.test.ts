import { describe, expect, it } from 'vitest';
import {
  buildCloudEvent,
  type CloudEventInput,
  MAX_CLOUD_EVENT_BYTES,
  truncateToJsonBytes,
} from '../../../lib/actions/cloud-event.ts';
import type { AuthVerdicts } from '../../../lib/auth/verdicts.ts';
import type { ParsedMessage } from '../../../lib/message/types.ts';

const auth: AuthVerdicts = {
  source: 'mailauth',
  spf: {
    result: 'pass',
    scope: 'mailfrom',
    domain: 'example.net',
    mailFrom: 'a@example.net',
    helo: 'mx',
    clientIp: '192.0.2.1',
  },
  dkim: [{ result: 'pass', domain: 'example.net', selector: 's1', aligned: true, algorithm: 'rsa-sha256' }],
  dmarc: { result: 'pass', domain: 'example.net', policy: 'reject', alignment: { spf: true, dkim: true } },
  arc: { result: 'none', instance: 0 },
  spam: null,
  virus: null,
};

function message(over: Partial<ParsedMessage> = {}): ParsedMessage {
  return {
    messageId: '<m1@example.net>',
    date: '2024-05-01T12:00:00.000Z',
    subject: 'Order 42',
    from: { address: 'alice@example.net', name: 'Alice' },
    to: [{ address: 'orders@example.com', name: '' }],
    cc: [],
    replyTo: [],
    inReplyTo: null,
    references: [],
    text: 'Please ship it.\n\n-- \nAlice',
    html: '<p>Please ship it.</p>',
    attachments: [
      {
        filename: 'po.pdf',
        contentType: 'application/pdf',
        size: 1234,
        sha256: 'ab'.repeat(32),
        contentId: null,
        disposition: 'attachment',
        url: null,
        stored: false,
        related: false,
      },
    ],
    headers: [{ key: 'subject', value: 'Order 42' }],
    reply: { text: 'Please ship it.', signature: 'Alice' },
    thread: { id: 't1' },
    problems: [],
    ...over,
  };
}

function input(over: Partial<CloudEventInput> = {}): CloudEventInput {
  return {
    messageId: 'msg1',
    envelope: {
      mailFrom: 'alice@example.net',
      rcptTo: ['orders@example.com'],
      remoteAddress: '192.0.2.1',
      helo: 'mx',
    },
    recipient: 'orders@example.com',
    recipients: ['orders@example.com'],
    route: 'orders',
    params: { tag: 'x' },
    message: message(),
    auth,
    raw: Buffer.alloc(4321),
    idempotencyKey: 'msg1:lambda:r0.a0:abc',
    ...over,
  };
}

const now = new Date('2024-05-01T12:00:01.000Z');
const size = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

describe('buildCloudEvent', () => {
  it('summarizes the delivery: envelope, route, message fields, auth, raw location, key', () => {
    const event = buildCloudEvent(input(), { now, rawLocation: { bucket: 'raw', key: 'smtp/msg1.eml' } });
    expect(event).toEqual({
      version: 1,
      type: 'message.received',
      id: 'msg1:lambda:r0.a0:abc',
      timestamp: '2024-05-01T12:00:01.000Z',
      data: {
        id: 'msg1',
        envelope: {
          mailFrom: 'alice@example.net',
          rcptTo: ['orders@example.com'],
          remoteAddress: '192.0.2.1',
          helo: 'mx',
        },
        recipient: 'orders@example.com',
        recipients: ['orders@example.com'],
        route: 'orders',
        params: { tag: 'x' },
        message: {
          messageId: '<m1@example.net>',
          date: '2024-05-01T12:00:00.000Z',
          subject: 'Order 42',
          from: { address: 'alice@example.net', name: 'Alice' },
          to: [{ address: 'orders@example.com', name: '' }],
          cc: [],
          replyTo: [],
          inReplyTo: null,
          references: [],
          text: 'Please ship it.\n\n-- \nAlice',
          hasHtml: true,
          reply: { text: 'Please ship it.', signature: 'Alice' },
          threadId: 't1',
          attachments: [{ ...message().attachments[0]!, urlExpiresAt: null }],
          problems: [],
        },
        auth: {
          source: 'mailauth',
          summary: 'spf=pass dkim=pass dmarc=pass arc=none',
          spf: { result: 'pass', domain: 'example.net' },
          dkim: [{ result: 'pass', domain: 'example.net', selector: 's1', aligned: true }],
          dmarc: { result: 'pass', domain: 'example.net', policy: 'reject' },
          arc: 'none',
          spam: null,
          virus: null,
        },
        raw: { size: 4321, location: { bucket: 'raw', key: 'smtp/msg1.eml' } },
      },
      truncated: false,
      truncatedFields: [],
    });
  });

  it('keeps a null text null and says there is no HTML, location null when unknown', () => {
    const event = buildCloudEvent(input({ message: message({ text: null, html: null }) }), { now });
    expect(event.data.message.text).toBeNull();
    expect(event.data.message.hasHtml).toBe(false);
    expect(event.data.raw.location).toBeNull();
  });

  it('trims a huge body to fit 256 KiB, the reply text up to half, and says so', () => {
    const text = 'é'.repeat(400_000); // 800 kB of UTF-8
    const reply = 'r'.repeat(300_000);
    const event = buildCloudEvent(
      input({ message: message({ text, reply: { text: reply, signature: null } }) }),
      { now },
    );
    const bytes = size(event);
    expect(bytes).toBeLessThanOrEqual(MAX_CLOUD_EVENT_BYTES);
    expect(bytes).toBeGreaterThan(MAX_CLOUD_EVENT_BYTES - 2048); // the room is used, not wasted
    expect(event.truncated).toBe(true);
    expect(event.truncatedFields).toEqual(['data.message.reply.text', 'data.message.text']);
    expect(text.startsWith(event.data.message.text ?? 'x')).toBe(true);
    expect(reply.startsWith(event.data.message.reply.text)).toBe(true);
    const replyBytes = event.data.message.reply.text.length;
    expect(replyBytes).toBeGreaterThan(100_000);
    expect(replyBytes).toBeLessThanOrEqual(MAX_CLOUD_EVENT_BYTES / 2);
  });

  it('gives the text all the room when the reply is short', () => {
    const text = 'a'.repeat(500_000);
    const event = buildCloudEvent(input({ message: message({ text }) }), { now });
    expect(event.truncatedFields).toEqual(['data.message.text']);
    expect(event.data.message.reply.text).toBe('Please ship it.');
    expect(event.data.message.text?.length).toBeGreaterThan(MAX_CLOUD_EVENT_BYTES - 4096);
  });

  it('cuts hostile lists and strings, tighter until it fits, and names what it cut', () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({
      address: `user${i}@example.org`,
      name: 'N'.repeat(300),
    }));
    const attachments = Array.from({ length: 1000 }, (_, i) => ({
      filename: `f${i}-${'x'.repeat(250)}.bin`,
      contentType: 'application/octet-stream',
      size: i,
      sha256: 'cd'.repeat(32),
      contentId: null,
      disposition: 'attachment',
      url: null,
      stored: false,
      related: false,
    }));
    const event = buildCloudEvent(
      input({
        recipients: many.map((a) => a.address),
        envelope: { mailFrom: 'a@example.net', rcptTo: many.map((a) => a.address) },
        message: message({ to: many, cc: many, replyTo: many, attachments, subject: 'S'.repeat(1_000_000) }),
      }),
      { now },
    );
    expect(size(event)).toBeLessThanOrEqual(MAX_CLOUD_EVENT_BYTES);
    expect(event.data.message.to.length).toBeLessThanOrEqual(100);
    expect(event.data.message.attachments.length).toBeLessThanOrEqual(100);
    expect(event.data.message.subject?.length).toBeLessThanOrEqual(1000);
    expect(event.truncatedFields).toEqual(
      expect.arrayContaining([
        'data.envelope.rcptTo',
        'data.message.attachments',
        'data.message.cc',
        'data.message.replyTo',
        'data.message.subject',
        'data.message.to',
        'data.recipients',
      ]),
    );
  });

  it('honours a smaller budget (EventBridge takes source and detail-type off)', () => {
    const event = buildCloudEvent(input({ message: message({ text: 'z'.repeat(100_000) }) }), {
      now,
      maxBytes: 20_000,
    });
    expect(size(event)).toBeLessThanOrEqual(20_000);
    expect(event.truncatedFields).toEqual(['data.message.text']);
  });
});

describe('truncateToJsonBytes', () => {
  it('matches JSON.stringify byte counts for escapes, multi-byte characters and surrogate pairs', () => {
    const s = 'a"b\\c\n\u0001é€😀\ud800x';
    for (let max = 0; max <= 40; max++) {
      const cut = truncateToJsonBytes(s, max);
      expect(size(cut) - 2).toBeLessThanOrEqual(max);
      expect(s.startsWith(cut)).toBe(true);
      if (cut.length < s.length) {
        // one more character (a whole pair for an emoji) would not have fitted
        const next = s.codePointAt(cut.length)! > 0xffff ? 2 : 1;
        expect(size(s.slice(0, cut.length + next)) - 2).toBeGreaterThan(max);
      }
    }
    expect(truncateToJsonBytes('😀', 3)).toBe(''); // never half a pair
  });
});
