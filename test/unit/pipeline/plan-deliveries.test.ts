import { describe, expect, it } from 'vitest';
import { drop, handler, mailbox, reject } from '../../../lib/actions/builders.ts';
import { canonicalParams, planDeliveries } from '../../../lib/pipeline/plan-deliveries.ts';
import { createRouter } from '../../../lib/routing/index.ts';
import type { Route } from '../../../lib/routing/types.ts';

const noop = () => {};

function plan(routes: Route[], rcpts: string[]) {
  const router = createRouter({ domains: ['example.com'], routes });
  const decisions = rcpts.map((r) => router.decide(r, { mailFrom: 'a@example.net' }));
  return planDeliveries('m1', decisions);
}

describe('planDeliveries', () => {
  it('gives a mailbox one delivery however many recipients and routes lead there', () => {
    const p = plan(
      [
        { name: 'support', match: 'support@example.com', action: mailbox('support'), continue: true },
        { name: 'help', match: 'help@example.com', action: mailbox('support') },
        { name: 'all', match: '@example.com', action: mailbox('support') },
      ],
      ['support@example.com', 'support+x@example.com', 'help@example.com'],
    );
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({
      key: 'm1:mailbox:support',
      kind: 'mailbox',
      route: 'support',
      recipients: ['support@example.com', 'support+x@example.com', 'help@example.com'],
    });
  });

  it('groups handler recipients by equal params, per route and action', () => {
    const h = handler(noop, 'h');
    const p = plan(
      [
        { name: 'team', match: 'team@example.com', action: [h, mailbox('team')] },
        { name: 'all', match: '*@example.com', action: h },
      ],
      ['team@example.com', 'team+a@example.com', 'TEAM+a@example.com', 'x@example.com', 'y@example.com'],
    );
    expect(p.map((d) => [d.kind, d.route, d.recipients])).toEqual([
      ['handler', 'team', ['team@example.com']],
      ['mailbox', 'team', ['team@example.com', 'team+a@example.com']],
      ['handler', 'team', ['team+a@example.com']],
      ['handler', 'all', ['x@example.com', 'y@example.com']],
    ]);
    expect(p[0]?.key).toMatch(/^m1:handler:r0\.a0:[0-9a-f]{16}$/);
    expect(p[0]?.key).not.toBe(p[2]?.key);
    expect(p[3]?.key).toMatch(/^m1:handler:r1\.a0:/);
  });

  it('keeps unrouted and rejected recipients as rows of their own', () => {
    const p = plan(
      [
        { name: 'blocked', match: 'blocked@example.com', action: reject(550, '5.7.1 Not here') },
        { name: 'spam', match: 'spam@example.com', action: drop() },
      ],
      ['nobody@example.com', 'blocked@example.com', 'spam@example.com', 'x@other.org'],
    );
    expect(p.map((d) => [d.key, d.kind, d.route, d.reason])).toEqual([
      ['m1:none:nobody@example.com', 'none', '', '550 5.1.1 <nobody@example.com>: no such user here'],
      ['m1:reject:blocked@example.com', 'reject', 'blocked', '550 5.7.1 Not here'],
      [expect.stringMatching(/^m1:drop:r1\.a0:/), 'drop', 'spam', undefined],
      ['m1:none:x@other.org', 'none', '', expect.stringMatching(/^550 5\.7\.1/)],
    ]);
  });

  it('writes params canonically', () => {
    expect(canonicalParams({ b: '2', a: '1' })).toBe('{"a":"1","b":"2"}');
  });
});
