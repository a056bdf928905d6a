import { describe, expect, it } from 'vitest';
import { mailbox, reject } from '../../../lib/actions/builders.ts';
import type { AuthVerdicts } from '../../../lib/auth/index.ts';
import { createReplyToken, createRouter, type Route, type RoutingInput } from '../../../lib/routing/index.ts';

const keys = { b: 'new-signing-key-abcdefghij' };
const now = new Date('2030-01-01T00:00:00Z');

const routes: Route[] = [
  { name: 'billing', match: 'billing@example.com', action: mailbox('billing') },
  {
    name: 'trusted',
    match: 'support@example.com',
    when: { auth: { dmarc: 'pass' } },
    action: mailbox('trusted'),
  },
  { name: 'vip', match: 'support@example.com', when: { subject: 'vip*' }, action: mailbox('vip') },
  { name: 'partner', match: 'support@example.com', when: { sender: '*@partner.test' }, action: mailbox('p') },
  {
    name: 'archive',
    match: ['support@example.com', 'sales@example.com'],
    action: mailbox('a'),
    continue: true,
  },
  { name: 'support', match: 'support@example.com', action: mailbox('support') },
  { name: 'never', match: 'support@example.com', action: mailbox('never') },
  { name: 'blocked', match: 'noreply@example.com', action: reject(550, '5.7.1 Not here') },
  { name: 'after-block', match: 'no*@example.com', action: mailbox('catchall') },
  {
    name: 'replies',
    match: 'reply+{token}@example.com',
    replyToken: { param: 'token' },
    action: mailbox('r'),
  },
  {
    name: 'tickets',
    match: 'ticket+{token}@example.com',
    replyToken: { param: 'token', fallback: 'stale' },
    action: mailbox('t'),
  },
  { name: 'stale', match: 'stale-only@example.com', action: mailbox('stale') },
];
const router = createRouter({ domains: ['example.com'], routes, replyKeys: keys, now: () => now });

const dmarc = (result: 'pass' | 'fail'): RoutingInput['auth'] => ({
  spf: { result: 'none', scope: 'mailfrom', domain: null, mailFrom: null, helo: null, clientIp: null },
  dkim: [],
  dmarc: { result, domain: 'sender.test', policy: null, alignment: { spf: null, dkim: null } },
});
const input = (subject: string, result: 'pass' | 'fail' = 'fail'): RoutingInput => ({
  mailFrom: 'ada@sender.test',
  message: { from: { address: 'ada@sender.test' }, subject, headers: [] },
  auth: dmarc(result) as Pick<AuthVerdicts, 'spf' | 'dkim' | 'dmarc'>,
});
const reasonOf = (rcpt: string, route: string, given = input('Hello')) =>
  router.explain(rcpt, given).considered.find((c) => c.route === route);

describe('router.explain: why each route took a recipient or not', () => {
  it('a pattern mismatch names the recipient and the pattern', () => {
    expect(reasonOf('support@example.com', 'billing')).toEqual({
      route: 'billing',
      matched: false,
      reason: 'recipient support@example.com does not match pattern "billing@example.com"',
    });
  });

  it('a failed verdict condition names the condition and the verdict', () => {
    expect(reasonOf('support@example.com', 'trusted')?.reason).toBe(
      'condition `auth.dmarc == pass` false (dmarc is fail)',
    );
  });

  it('a failed subject or sender condition names it and the value it saw', () => {
    expect(reasonOf('support@example.com', 'vip')?.reason).toBe(
      'condition `when.subject` false (subject is "Hello")',
    );
    expect(reasonOf('support@example.com', 'partner')?.reason).toBe(
      'condition `when.sender` false (envelope sender is <ada@sender.test>)',
    );
  });

  it('says continue, then first match wins, then that later routes were not evaluated', () => {
    const explained = router.explain('support@example.com', input('Hello'));
    expect(explained.considered.map((c) => [c.route, c.matched, c.reason])).toContainEqual([
      'archive',
      true,
      'matched, continue: later routes are evaluated too',
    ]);
    expect(reasonOf('support@example.com', 'support')).toMatchObject({
      matched: true,
      reason: 'matched, stop: first match wins',
    });
    expect(reasonOf('support@example.com', 'never')).toMatchObject({
      matched: false,
      reason: 'not evaluated: stopped after support (first match wins)',
    });
    expect(explained.matches.map((m) => m.route)).toEqual(['archive', 'support']);
  });

  it('a matching condition takes the recipient', () => {
    const explained = router.explain('support@example.com', input('Hello', 'pass'));
    expect(explained.considered[1]).toEqual({
      route: 'trusted',
      matched: true,
      reason: 'matched, stop: first match wins',
    });
    expect(explained.matches.map((m) => m.route)).toEqual(['trusted']);
  });

  it('a reject route says what it answers and stops the walk', () => {
    const explained = router.explain('noreply@example.com', input('Hello'));
    expect(reasonOf('noreply@example.com', 'blocked')?.reason).toBe('matched; rejects 550 5.7.1 Not here');
    expect(reasonOf('noreply@example.com', 'after-block')?.reason).toBe(
      'not evaluated: blocked rejected the recipient',
    );
    expect(explained.rejected).toEqual({ code: 550, message: '5.7.1 Not here' });
  });

  it('a domain we do not receive for: no route is evaluated, and why', () => {
    const explained = router.explain('ada@elsewhere.test', input('Hello'));
    expect(explained.rejected?.code).toBe(550);
    expect(explained.considered).toHaveLength(routes.length);
    expect(explained.considered[0]?.reason).toBe(
      'not evaluated: 5.7.1 Relaying denied: elsewhere.test is not a domain we receive for',
    );
  });

  it('an invalid or expired reply token: refused, or the fallback takes it', () => {
    const expired = createReplyToken(
      { ticket: 42 },
      { keys, currentKeyId: 'b', now: new Date(now.getTime() - 7_200_000), expiresInSeconds: 3600 },
    );
    expect(reasonOf(`reply+${expired}@example.com`, 'replies')).toMatchObject({
      matched: true,
      reason: `matched, but reply address has expired: refused 550 5.7.1 <reply+${expired}@example.com>: reply address has expired`,
    });
    expect(reasonOf('ticket+garbage@example.com', 'tickets')?.reason).toMatch(
      /^matched, but reply address (token is malformed|signature does not match): fallback route stale takes it, stop/,
    );
  });

  it('leaves decide as it was: the explanation carries the same decision', () => {
    for (const rcpt of ['support@example.com', 'noreply@example.com', 'nobody@elsewhere.test']) {
      const { considered, ...decision } = router.explain(rcpt, input('vip deal'));
      expect(considered).toHaveLength(routes.length);
      expect(decision).toEqual(router.decide(rcpt, input('vip deal')));
    }
  });
});
