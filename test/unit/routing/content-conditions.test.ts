import { describe, expect, it } from 'vitest';
import { mailbox } from '../../../lib/actions/builders.ts';
import type { ContentVerdict } from '../../../lib/auth/verdicts.ts';
import { RouteConfigError } from '../../../lib/routing/errors.ts';
import { createRouter, type RouteConditions, type RoutingInput } from '../../../lib/routing/index.ts';

type Auth = NonNullable<RoutingInput['auth']>;

function verdicts(spam: ContentVerdict | null, virus: ContentVerdict | null = null): Auth {
  return {
    spf: {
      result: 'pass',
      scope: 'mailfrom',
      domain: 'sender.test',
      mailFrom: 'a@sender.test',
      helo: null,
      clientIp: '192.0.2.1',
    },
    dkim: [],
    dmarc: { result: 'none', domain: null, policy: null, alignment: { spf: null, dkim: null } },
    spam,
    virus,
  };
}

const router = (when: RouteConditions) =>
  createRouter({
    domains: ['example.com'],
    routes: [
      { name: 'quarantine', match: 'support@example.com', when, action: mailbox('quarantine') },
      { name: 'support', match: 'support@example.com', action: mailbox('support') },
    ],
  });

function routeFor(when: RouteConditions, auth: Auth | undefined): string | undefined {
  const input: RoutingInput = {
    mailFrom: 'a@sender.test',
    message: { from: null, subject: '', headers: [] },
  };
  if (auth) input.auth = auth;
  return router(when).decide('support@example.com', input).matches[0]?.route;
}

describe('route conditions on spam and virus verdicts', () => {
  it.each<[string, RouteConditions, Auth | undefined, string]>([
    ['spam fail', { spam: 'fail' }, verdicts({ verdict: 'fail', scanner: 'rspamd' }), 'quarantine'],
    ['spam pass', { spam: 'fail' }, verdicts({ verdict: 'pass', scanner: 'rspamd' }), 'support'],
    ['spam list', { spam: ['fail', 'gray'] }, verdicts({ verdict: 'gray' }), 'quarantine'],
    ['no scan counts as none', { spam: 'none' }, verdicts(null), 'quarantine'],
    ['no verdicts at all count as none', { spam: 'none' }, undefined, 'quarantine'],
    ['no scan is not a fail', { spam: 'fail' }, verdicts(null), 'support'],
    [
      'processing_failed = temperror',
      { spam: 'processing_failed' },
      verdicts({ verdict: 'temperror' }),
      'quarantine',
    ],
    ['virus fail', { virus: 'fail' }, verdicts(null, { verdict: 'fail', virus: 'Eicar' }), 'quarantine'],
    ['virus pass', { virus: 'fail' }, verdicts(null, { verdict: 'pass' }), 'support'],
    [
      'spam and virus both must hold',
      { spam: 'pass', virus: 'pass', auth: { spf: 'pass' } },
      verdicts({ verdict: 'pass' }, { verdict: 'fail' }),
      'support',
    ],
  ])('%s', (_name, when, auth, expected) => {
    expect(routeFor(when, auth)).toBe(expected);
  });

  it('may match at RCPT time (verdicts come later)', () => {
    const only = createRouter({
      domains: ['example.com'],
      routes: [{ match: 'support@example.com', when: { spam: 'fail' }, action: mailbox('quarantine') }],
    });
    expect(only.checkRecipient('support@example.com', { mailFrom: 'a@sender.test' })).toEqual({
      accepted: true,
    });
  });

  it('refuses words that are not results', () => {
    expect(() => router({ spam: 'spam' as never })).toThrow(RouteConfigError);
    expect(() => router({ virus: [] })).toThrow(/when\.virus: give at least one result/);
  });
});
