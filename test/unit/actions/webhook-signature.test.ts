import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { WebhookVerificationError } from '../../../lib/actions/errors.ts';
import { signWebhook, verifyWebhook, webhookSecretKey } from '../../../lib/actions/webhook-signature.ts';

const key = Buffer.from('0123456789abcdef0123456789abcdef');
const secret = `whsec_${key.toString('base64')}`;
const body = '{"type":"message.received"}';

function headers(id: string, timestamp: number, signature: string) {
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
}

describe('webhook signatures', () => {
  it('signs HMAC-SHA256 over id.timestamp.body with the decoded whsec_ key', () => {
    const expected = createHmac('sha256', key).update(`msg_1.1700000000.${body}`).digest('base64');
    expect(signWebhook({ secret, id: 'msg_1', timestamp: 1700000000, body })).toBe(`v1,${expected}`);
  });

  it('uses a secret without the whsec_ prefix as UTF-8 bytes', () => {
    expect(webhookSecretKey('plain secret')).toEqual(Buffer.from('plain secret'));
    const expected = createHmac('sha256', 'plain secret').update(`i.1.${body}`).digest('base64');
    expect(signWebhook({ secret: 'plain secret', id: 'i', timestamp: 1, body })).toBe(`v1,${expected}`);
  });

  it('verifies a good signature, in Headers or a plain record, among several', () => {
    const sig = signWebhook({ secret, id: 'msg_1', timestamp: 1000, body });
    verifyWebhook({ secret, headers: headers('msg_1', 1000, sig), body, now: 1010 });
    verifyWebhook({
      secret,
      headers: new Headers(headers('msg_1', 1000, sig)),
      body: Buffer.from(body),
      now: 1010,
    });
    verifyWebhook({
      secret,
      headers: {
        'Webhook-Id': 'msg_1',
        'Webhook-Timestamp': '1000',
        'Webhook-Signature': `v1,AAAA v2,xyz ${sig}`,
      },
      body,
      now: 1000,
    });
  });

  it('rejects a tampered body, a wrong secret, a wrong id and a missing header', () => {
    const sig = signWebhook({ secret, id: 'msg_1', timestamp: 1000, body });
    const check = (over: Partial<Parameters<typeof verifyWebhook>[0]>) => () =>
      verifyWebhook({ secret, headers: headers('msg_1', 1000, sig), body, now: 1000, ...over });
    expect(check({ body: `${body} ` })).toThrow(WebhookVerificationError);
    expect(check({ secret: 'whsec_AAAA' })).toThrow(/no matching/);
    expect(check({ headers: headers('msg_2', 1000, sig) })).toThrow(WebhookVerificationError);
    expect(check({ headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': '1000' } })).toThrow(/missing/);
    expect(check({ headers: headers('msg_1', 1000, 'v1,') })).toThrow(WebhookVerificationError);
  });

  it('rejects a timestamp outside the tolerance', () => {
    const sig = signWebhook({ secret, id: 'msg_1', timestamp: 1000, body });
    expect(() => verifyWebhook({ secret, headers: headers('msg_1', 1000, sig), body, now: 1301 })).toThrow(
      /tolerance/,
    );
    expect(() => verifyWebhook({ secret, headers: headers('msg_1', 1000, sig), body, now: 699 })).toThrow(
      /tolerance/,
    );
    verifyWebhook({ secret, headers: headers('msg_1', 1000, sig), body, now: 1300 });
    verifyWebhook({ secret, headers: headers('msg_1', 1000, sig), body, now: 2000, toleranceSeconds: 1000 });
    expect(() =>
      verifyWebhook({
        secret,
        headers: { ...headers('msg_1', 1000, sig), 'webhook-timestamp': '1e3' },
        body,
      }),
    ).toThrow(/invalid/);
  });
});
