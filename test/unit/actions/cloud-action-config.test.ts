import { describe, expect, it } from 'vitest';
import { eventBridge, forward, lambda } from '../../../lib/actions/builders.ts';
import { ConfigError, resolveConfig } from '../../../lib/config/index.ts';

const problemsOf = (action: unknown): string[] => {
  try {
    resolveConfig({ domains: ['example.com'], routes: [{ name: 'r', match: 'a@example.com', action }] });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
};

describe('builders: lambda, eventBridge, forward', () => {
  it('build plain action objects, options only when given', () => {
    expect(lambda('process-order')).toEqual({ kind: 'lambda', functionName: 'process-order' });
    expect(lambda('process-order', { qualifier: 'live' })).toEqual({
      kind: 'lambda',
      functionName: 'process-order',
      qualifier: 'live',
    });
    expect(eventBridge('orders')).toEqual({ kind: 'eventBridge', eventBusName: 'orders' });
    expect(eventBridge('orders', { source: 'shop', detailType: 'mail' })).toEqual({
      kind: 'eventBridge',
      eventBusName: 'orders',
      source: 'shop',
      detailType: 'mail',
    });
    expect(forward('ops@example.net')).toEqual({ kind: 'forward', to: ['ops@example.net'] });
    const list = ['a@example.net', 'b@example.net'];
    const action = forward(list, { from: 'Support <fwd@example.com>' });
    expect(action).toEqual({ kind: 'forward', to: list, from: 'Support <fwd@example.com>' });
    list.push('c@example.net');
    expect(action.to).toHaveLength(2); // the builder copies the list
  });
});

describe('config: lambda, eventBridge and forward actions', () => {
  it('accepts valid actions of every kind, names and ARNs', () => {
    const config = resolveConfig({
      domains: ['example.com'],
      routes: [
        {
          name: 'all',
          match: 'a@example.com',
          action: [
            lambda('process-order'),
            lambda('arn:aws:lambda:eu-west-1:123456789012:function:process-order:live'),
            lambda('123456789012:function:process-order', { qualifier: '$LATEST' }),
            eventBridge('default'),
            eventBridge('arn:aws:events:eu-west-1:123456789012:event-bus/orders', {
              source: 'shop.mail',
              detailType: 'order mail',
            }),
            forward(['ops@example.net', 'boss@example.org'], { from: 'Support <fwd@example.com>' }),
          ],
        },
      ],
    });
    expect(config.routes[0]?.action).toHaveLength(6);
  });

  it('names the field of a bad Lambda function name or qualifier', () => {
    expect(problemsOf(lambda('my function'))).toEqual([
      'routes[0].action.functionName: must be a Lambda function name, ARN or partial ARN (letters, digits, - and _ in the name)',
    ]);
    expect(problemsOf(lambda('fn', { qualifier: 'a b' }))).toEqual([
      'routes[0].action.qualifier: must be a version or alias name such as "live"',
    ]);
    expect(problemsOf(lambda('fn:live', { qualifier: 'live' }))).toEqual([
      'routes[0].action.qualifier: give the version or alias either in functionName or as qualifier, not both',
    ]);
  });

  it('names the field of a bad bus, a reserved source and an empty detail type', () => {
    expect(problemsOf(eventBridge('my bus'))).toEqual([
      'routes[0].action.eventBusName: must be an event bus name (or ARN) such as "default"',
    ]);
    expect(problemsOf(eventBridge('default', { source: 'aws.s3', detailType: '' }))).toEqual([
      'routes[0].action.source: must not start with "aws." (reserved for AWS)',
      'routes[0].action.detailType: must not be empty',
    ]);
  });

  it('names the bad forward target and From, and limits the list to 50', () => {
    expect(problemsOf(forward(['ops@example.net', 'not an address']))).toEqual([
      'routes[0].action.to[1]: must be an email address such as ops@example.net',
    ]);
    expect(problemsOf(forward([]))).toEqual(['routes[0].action.to: give at least one address']);
    const many = Array.from({ length: 51 }, (_, i) => `u${i}@example.net`);
    expect(problemsOf(forward(many))).toEqual([
      'routes[0].action.to: at most 50 addresses (the SES limit per message)',
    ]);
    expect(problemsOf(forward('ops@example.net', { from: 'a@example.com, b@example.com' }))).toEqual([
      'routes[0].action.from: must be one address: "fwd@example.com" or "Name <fwd@example.com>"',
    ]);
  });

  it('takes one address given as a string for a list of one', () => {
    const config = resolveConfig({
      domains: ['example.com'],
      routes: [{ match: 'a@example.com', action: { kind: 'forward', to: 'ops@example.net' } }],
    });
    expect(config.routes[0]?.action).toEqual({ kind: 'forward', to: ['ops@example.net'] });
  });
});
