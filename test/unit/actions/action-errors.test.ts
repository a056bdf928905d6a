import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Action,
  type ActionRun,
  DeliveryError,
  forward,
  handler,
  isRetryableStatus,
  lambda,
  mailbox,
  runAction,
  WebhookVerificationError,
  webhook,
} from '../../../lib/actions/index.ts';
import { uncheckedVerdicts } from '../../../lib/auth/index.ts';
import { AwsActionError, awsCallError } from '../../../lib/aws/aws-action-error.ts';
import { isRetryable, MailroomError, silentLogger } from '../../../lib/kernel/index.ts';
import { parseMessage } from '../../../lib/message/index.ts';
import { OutboundConfigError } from '../../../lib/outbound/index.ts';
import { SqliteMessageStore } from '../../../lib/store/index.ts';

const raw = Buffer.from('From: alice@example.net\r\nTo: support@example.com\r\nSubject: Hi\r\n\r\nhi\r\n');
let store: SqliteMessageStore;
beforeEach(() => {
  store = new SqliteMessageStore(':memory:');
});
afterEach(async () => {
  await store.close();
});

async function run(over: Partial<ActionRun> = {}): Promise<ActionRun> {
  return {
    messageId: 'msg1',
    envelope: { mailFrom: 'alice@example.net', rcptTo: ['support@example.com'] },
    recipient: 'support@example.com',
    recipients: ['support@example.com'],
    message: await parseMessage(raw),
    auth: uncheckedVerdicts('test'),
    params: {},
    raw,
    route: 'support',
    idempotencyKey: 'msg1:r0.a0',
    attempt: 1,
    store,
    logger: silentLogger,
    ...over,
  };
}

async function failure(action: Action, over: Partial<ActionRun> = {}): Promise<DeliveryError> {
  const err = await runAction(action, await run(over)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(DeliveryError);
  expect(err).toBeInstanceOf(MailroomError);
  return err as DeliveryError;
}

const answering = (status: number) => (async () => new Response('no', { status })) as typeof fetch;

describe('delivery errors say whether another attempt can succeed', () => {
  it('a webhook 4xx is permanent, except 408 and 429; a 5xx is not', async () => {
    for (const status of [400, 401, 404, 410, 422]) {
      const err = await failure(webhook('https://hooks.example/in'), { fetch: answering(status) });
      expect([status, err.status, err.retryable, isRetryable(err)]).toEqual([status, status, false, false]);
    }
    for (const status of [408, 429, 500, 502, 503]) {
      const err = await failure(webhook('https://hooks.example/in'), { fetch: answering(status) });
      expect([status, err.retryable]).toEqual([status, true]);
    }
  });

  it('a webhook that cannot be reached, or times out, is retried', async () => {
    const refused = (async () => {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') });
    }) as typeof fetch;
    expect((await failure(webhook('https://hooks.example/in'), { fetch: refused })).retryable).toBe(true);
    const never = ((_url: string, init: RequestInit) =>
      new Promise((_, fail) =>
        init.signal?.addEventListener('abort', () => fail(init.signal?.reason)),
      )) as typeof fetch;
    const slow = await failure(webhook('https://hooks.example/in', { timeoutMs: 20 }), { fetch: never });
    expect(slow.message).toMatch(/timed out after 20 ms/);
    expect(slow.retryable).toBe(true);
  });

  it('a missing port, a bad forward From, a bad mailbox name and an unknown kind are permanent', async () => {
    expect((await failure(lambda('fn'))).retryable).toBe(false);
    const ports = { forward: async () => ({ detail: 'sent' }) };
    const badFrom = await failure(forward('ops@example.org', { from: 'not an address' }), { cloud: ports });
    expect(badFrom.retryable).toBe(false);
    expect((await failure(mailbox('no spaces allowed'))).retryable).toBe(false);
    expect((await failure({ kind: 'carrierPigeon' } as unknown as Action)).retryable).toBe(false);
  });

  it('a port or handler failure is as retryable as its cause says', async () => {
    const refusing = (retryable: boolean) => ({
      invokeLambda: async () => {
        throw new AwsActionError('Lambda Invoke failed', { retryable });
      },
    });
    expect((await failure(lambda('fn'), { cloud: refusing(false) })).retryable).toBe(false);
    expect((await failure(lambda('fn'), { cloud: refusing(true) })).retryable).toBe(true);
    const plain = handler(() => {
      throw new Error('database down');
    }, 'h');
    expect((await failure(plain)).retryable).toBe(true);
    const replies = handler((ctx) => ctx.reply({ text: 'thanks' }), 'replier');
    const noOutbound = await failure(replies);
    expect(noOutbound.cause).toBeInstanceOf(OutboundConfigError);
    expect(noOutbound.retryable).toBe(false);
  });

  it('SDK errors: throttling, 5xx and no answer are retryable; other refusals are not', () => {
    const sdk = (name: string, status: number | undefined, fault?: 'client' | 'server') =>
      Object.assign(new Error(`${name}!`), {
        name,
        ...(status === undefined ? {} : { $metadata: { httpStatusCode: status } }),
        ...(fault ? { $fault: fault } : {}),
      });
    expect(awsCallError('Lambda Invoke', sdk('ResourceNotFoundException', 404, 'client')).retryable).toBe(
      false,
    );
    expect(awsCallError('SES SendEmail', sdk('MessageRejected', 400, 'client')).retryable).toBe(false);
    expect(awsCallError('Lambda Invoke', sdk('TooManyRequestsException', 429, 'client')).retryable).toBe(
      true,
    );
    expect(awsCallError('Lambda Invoke', sdk('ServiceException', 500, 'server')).retryable).toBe(true);
    expect(awsCallError('Lambda Invoke', new Error('socket hang up')).retryable).toBe(true);
  });

  it('a bad webhook signature is permanent; statuses read as documented', () => {
    expect(new WebhookVerificationError('no matching webhook signature').retryable).toBe(false);
    expect([301, 400, 403, 408, 429, 500, 504].map(isRetryableStatus)).toEqual([
      true,
      false,
      false,
      true,
      true,
      true,
      true,
    ]);
  });
});
