import { describe, expect, it } from 'vitest';
import {
  type Action,
  actionGrants,
  actionKindNames,
  actionTarget,
  cloudPortsUsed,
  describeAction,
  drop,
  eventBridge,
  forward,
  handler,
  lambda,
  mailbox,
  reject,
  webhook,
} from '../../../lib/actions/index.ts';

const routes = (...actions: Array<Action | Action[]>) => ({
  routes: actions.map((action) => ({ action })),
});

describe('the action kinds registry', () => {
  it('lists every kind once, the built-in ones first in the order config errors name them', () => {
    const names = actionKindNames();
    expect(names.slice(0, 8)).toEqual([
      'mailbox',
      'handler',
      'webhook',
      'reject',
      'drop',
      'lambda',
      'eventBridge',
      'forward',
    ]);
    expect(new Set(names).size).toBe(names.length);
  });

  it('describes actions for `mailroom route`: handlers by name, no webhook secret', () => {
    const onSupport = () => {};
    expect(
      [
        mailbox('support'),
        handler(onSupport),
        webhook('https://u:p@hooks.example/in?token=t', { secret: 'whsec_c2VjcmV0' }),
        reject(),
        drop(),
        lambda('fn', { qualifier: 'live' }),
        lambda('fn'),
        eventBridge('orders', { source: 'shop' }),
        forward('ops@example.org'),
      ].map(describeAction),
    ).toEqual([
      { kind: 'mailbox', mailbox: 'support' },
      { kind: 'handler', name: 'onSupport' },
      { kind: 'webhook', url: 'https://u:p@hooks.example/in?token=t', signed: true },
      { kind: 'reject', code: 550, text: '5.7.1 Recipient rejected' },
      { kind: 'drop' },
      { kind: 'lambda', functionName: 'fn', qualifier: 'live' },
      { kind: 'lambda', functionName: 'fn', qualifier: null },
      { kind: 'eventBridge', eventBusName: 'orders', source: 'shop', detailType: null },
      { kind: 'forward', to: ['ops@example.org'], from: null },
    ]);
  });

  it('gives each delivery its target: webhook URLs without credentials and query', () => {
    expect(actionTarget(webhook('https://u:p@hooks.example/in?token=t'))).toBe('https://hooks.example/in');
    expect(actionTarget(webhook('not a url'))).toBeUndefined();
    expect(actionTarget(mailbox('support'))).toBe('support');
    expect(actionTarget(handler(() => {}, 'h'))).toBe('h');
    expect(actionTarget(drop())).toBeUndefined();
    expect(actionTarget(reject())).toBeUndefined();
  });

  it('derives the cloud ports a config needs and the grants of its targets, each once', () => {
    expect(cloudPortsUsed(routes(mailbox('a'), webhook('https://h.example/')))).toEqual(new Set());
    const config = routes(
      [lambda('fn'), eventBridge('orders')],
      lambda('fn'),
      lambda('fn', { qualifier: 'live' }),
      forward('ops@example.org'),
      eventBridge('orders', { detailType: 'x' }),
    );
    expect(cloudPortsUsed(config)).toEqual(new Set(['invokeLambda', 'putEvent', 'forward']));
    expect(actionGrants(config)).toEqual([
      { lambdaInvoke: { functionName: 'fn' } },
      { eventBusPut: 'orders' },
      { lambdaInvoke: { functionName: 'fn', qualifier: 'live' } },
    ]);
  });
});
