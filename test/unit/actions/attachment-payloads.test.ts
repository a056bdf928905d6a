import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventBridge, lambda, webhook } from '../../../lib/actions/builders.ts';
import { buildCloudEvent } from '../../../lib/actions/cloud-event.ts';
import type { LambdaInvokeRequest, PutEventRequest } from '../../../lib/actions/cloud-port-contract.ts';
import type { AttachmentLinkRef, WebhookPayload } from '../../../lib/actions/index.ts';
import { type ActionRun, runAction } from '../../../lib/actions/run-action.ts';
import { uncheckedVerdicts } from '../../../lib/auth/verdicts.ts';
import { silentLogger } from '../../../lib/kernel/index.ts';
import { type Attachment, parseMessage } from '../../../lib/message/index.ts';
import type { ParsedMessage } from '../../../lib/message/types.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';

const raw = Buffer.from('From: a@example.net\r\nTo: files@example.com\r\nSubject: files\r\n\r\nhi\r\n');
const kept: Attachment = {
  filename: 'a.pdf',
  contentType: 'application/pdf',
  size: 10,
  sha256: 'ab'.repeat(32),
  contentId: null,
  disposition: 'attachment',
  url: '/api/messages/msg1/attachments/0',
  stored: true,
  related: false,
};
const notKept: Attachment = { ...kept, filename: 'b.zip', sha256: 'cd'.repeat(32), url: null, stored: false };

let message: ParsedMessage;
let store: SqliteMessageStore;
const asked: AttachmentLinkRef[] = [];
beforeEach(async () => {
  message = { ...(await parseMessage(raw)), attachments: [kept, notKept] };
  store = new SqliteMessageStore(':memory:');
  asked.length = 0;
});
afterEach(async () => {
  await store.close();
});

function run(over: Partial<ActionRun> = {}): ActionRun {
  return {
    messageId: 'msg1',
    envelope: { mailFrom: 'a@example.net', rcptTo: ['files@example.com'] },
    recipient: 'files@example.com',
    recipients: ['files@example.com'],
    message,
    auth: uncheckedVerdicts('test'),
    params: {},
    raw,
    route: 'files',
    idempotencyKey: 'msg1:x:r0.a0:abc',
    attempt: 1,
    store,
    logger: silentLogger,
    now: () => new Date('2026-12-01T10:00:00.000Z'),
    attachments: {
      urlExpiresIn: 600,
      url: async (ref) => {
        asked.push(ref);
        return `https://files.test/${ref.messageId}/${ref.index}?sig=1`;
      },
    },
    ...over,
  };
}

const expected = [
  { ...kept, url: 'https://files.test/msg1/0?sig=1', urlExpiresAt: '2026-12-01T10:10:00.000Z' },
  { ...notKept, url: null, urlExpiresAt: null },
];

describe('attachment URLs in payloads', () => {
  it('webhook: each kept attachment carries a time-limited URL and its expiry', async () => {
    let body: WebhookPayload | null = null;
    const fetch = (async (_url: string, init: RequestInit) => {
      body = JSON.parse(String(init.body)) as WebhookPayload;
      return new Response(null, { status: 204 });
    }) as typeof globalThis.fetch;
    await runAction(webhook('https://hooks.test/in'), run({ fetch }));
    expect(body!.data.message.attachments).toEqual(expected);
    expect(asked).toEqual([
      { messageId: 'msg1', index: 0, sha256: kept.sha256, filename: 'a.pdf', contentType: 'application/pdf' },
    ]);
  });

  it('lambda and eventBridge: the same in the event', async () => {
    const invoked: LambdaInvokeRequest[] = [];
    const put: PutEventRequest[] = [];
    const cloud = {
      invokeLambda: async (r: LambdaInvokeRequest) => {
        invoked.push(r);
        return { detail: 'queued' };
      },
      putEvent: async (r: PutEventRequest) => {
        put.push(r);
        return { detail: 'event' };
      },
    };
    await runAction(lambda('fn'), run({ cloud }));
    await runAction(eventBridge('default'), run({ cloud }));
    expect(invoked[0]!.event.data.message.attachments).toEqual(expected);
    expect(put[0]!.detail.data.message.attachments).toEqual(expected);
  });

  it('without attachment access: no URLs', async () => {
    const invoked: LambdaInvokeRequest[] = [];
    const cloud = {
      invokeLambda: async (r: LambdaInvokeRequest) => {
        invoked.push(r);
        return { detail: 'queued' };
      },
    };
    await runAction(lambda('fn'), run({ cloud, attachments: { urlExpiresIn: 600 } }));
    expect(invoked[0]!.event.data.message.attachments.map((a) => [a.url, a.urlExpiresAt])).toEqual([
      [null, null],
      [null, null],
    ]);
  });

  it('keeps the event within its byte budget with many long URLs, leaving out URLs too long to keep whole', () => {
    const many = Array.from({ length: 1000 }, (_, i) => ({
      ...kept,
      filename: `f${i}.pdf`,
      url: `https://files.test/${'x'.repeat(i === 0 ? 5000 : 1500)}`,
      urlExpiresAt: '2026-12-01T10:10:00.000Z',
    }));
    const event = buildCloudEvent(
      { ...run(), message: { ...message, attachments: many } },
      { now: new Date('2026-12-01T10:00:00Z'), maxBytes: 256 * 1024, attachments: many },
    );
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThanOrEqual(256 * 1024);
    expect(event.truncatedFields).toContain('data.message.attachments');
    expect(event.data.message.attachments[0]!.url).toBeNull();
    expect(event.data.message.attachments[1]!.url).toBe(many[1]!.url);
  });
});
