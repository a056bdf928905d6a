import { describe, expect, it } from 'vitest';
import { mailbox } from '../../../lib/actions/builders.ts';
import type { AuthVerdicts } from '../../../lib/auth/verdicts.ts';
import { RouteConfigError } from '../../../lib/routing/errors.ts';
import { createRouter, type RouteConditions, type RoutingInput } from '../../../lib/routing/index.ts';

type Auth = NonNullable<RoutingInput['auth']>;

function verdicts(over: {
  spf?: AuthVerdicts['spf']['result'];
  dkim?: Array<{ result: AuthVerdicts['dkim'][number]['result']; aligned: boolean }>;
  dmarc?: AuthVerdicts['dmarc']['result'];
  alignment?: AuthVerdicts['dmarc']['alignment'];
}): Auth {
  return {
    spf: {
      result: over.spf ?? 'none',
      scope: 'mailfrom',
      domain: 'sender.test',
      mailFrom: 'a@sender.test',
      helo: null,
      clientIp: '192.0.2.1',
    },
    dkim: (over.dkim ?? []).map((d) => ({ ...d, domain: 'sender.test', selector: 's' })),
    dmarc: {
      result: over.dmarc ?? 'none',
      domain: 'sender.test',
      policy: null,
      alignment: over.alignment ?? { spf: null, dkim: null },
    },
  };
}

const router = (when: RouteConditions) =>
  createRouter({
    domains: ['example.com'],
    routes: [
      { name: 'invoices', match: 'invoices@example.com', when, action: mailbox('invoices') },
      { name: 'review', match: 'invoices@example.com', action: mailbox('review') },
    ],
  });

/** The route that takes invoices@ at processing time. */
function routeFor(when: RouteConditions, auth: Auth | undefined): string | undefined {
  const input: RoutingInput = {
    mailFrom: 'a@sender.test',
    message: { from: null, subject: '', headers: [] },
  };
  if (auth) input.auth = auth;
  return router(when).decide('invoices@example.com', input).matches[0]?.route;
}

describe('route conditions on authentication verdicts', () => {
  it.each<[string, RouteConditions['auth'], Auth, boolean]>([
    ['dmarc pass', { dmarc: 'pass' }, verdicts({ dmarc: 'pass' }), true],
    ['dmarc fail', { dmarc: 'pass' }, verdicts({ dmarc: 'fail' }), false],
    ['dmarc list', { dmarc: ['pass', 'none'] }, verdicts({ dmarc: 'none' }), true],
    ['spf softfail', { spf: ['pass', 'softfail'] }, verdicts({ spf: 'softfail' }), true],
    ['spf fail', { spf: 'pass' }, verdicts({ spf: 'fail' }), false],
    [
      'dkim: any signature',
      { dkim: 'pass' },
      verdicts({
        dkim: [
          { result: 'fail', aligned: false },
          { result: 'pass', aligned: false },
        ],
      }),
      true,
    ],
    ['dkim: unsigned counts as none', { dkim: 'none' }, verdicts({}), true],
    ['dkim: unsigned is no pass', { dkim: 'pass' }, verdicts({}), false],
    ['aligned by DMARC pass', { dmarcAligned: true }, verdicts({ dmarc: 'pass' }), true],
    [
      'aligned by a DKIM pass without a DMARC policy',
      { dmarcAligned: true },
      verdicts({ dmarc: 'none', dkim: [{ result: 'pass', aligned: true }] }),
      true,
    ],
    [
      'not aligned: DKIM pass for another domain',
      { dmarcAligned: true },
      verdicts({ dmarc: 'none', dkim: [{ result: 'pass', aligned: false }] }),
      false,
    ],
    [
      'not aligned: an aligned signature that fails',
      { dmarcAligned: true },
      verdicts({ dkim: [{ result: 'fail', aligned: true }] }),
      false,
    ],
    ['dmarcAligned: false takes unaligned mail', { dmarcAligned: false }, verdicts({ spf: 'pass' }), true],
    ['all must hold', { spf: 'pass', dmarc: 'pass' }, verdicts({ spf: 'fail', dmarc: 'pass' }), false],
  ])('%s', (_name, auth, given, taken) => {
    expect(routeFor({ auth }, given)).toBe(taken ? 'invoices' : 'review');
  });

  it('falls through when the message has no verdicts at processing time (judged as none)', () => {
    expect(routeFor({ auth: { dmarc: 'pass' } }, undefined)).toBe('review');
    expect(routeFor({ auth: { dmarc: 'none' } }, undefined)).toBe('invoices');
  });

  it('may match at RCPT time, so the recipient is accepted', () => {
    const r = createRouter({
      domains: ['example.com'],
      routes: [
        {
          name: 'invoices',
          match: 'invoices@example.com',
          when: { auth: { dmarc: 'pass' } },
          action: mailbox('i'),
        },
      ],
    });
    expect(r.checkRecipient('invoices@example.com', { mailFrom: 'a@sender.test' })).toEqual({
      accepted: true,
    });
    // …but with only that route, a failing message has no route when processed.
    const d = r.decide('invoices@example.com', {
      mailFrom: 'a@sender.test',
      auth: verdicts({ dmarc: 'fail' }),
    });
    expect(d.matches).toEqual([]);
  });

  it('combines with content conditions', () => {
    const when: RouteConditions = { subject: /invoice/i, auth: { dmarc: 'pass' } };
    const input = (subject: string, dmarc: 'pass' | 'fail'): RoutingInput => ({
      mailFrom: 'a@sender.test',
      message: { from: null, subject, headers: [] },
      auth: verdicts({ dmarc }),
    });
    expect(router(when).decide('invoices@example.com', input('Invoice 1', 'pass')).matches[0]?.route).toBe(
      'invoices',
    );
    expect(router(when).decide('invoices@example.com', input('Hello', 'pass')).matches[0]?.route).toBe(
      'review',
    );
    expect(router(when).decide('invoices@example.com', input('Invoice 1', 'fail')).matches[0]?.route).toBe(
      'review',
    );
  });

  it('refuses results a method never gives, unknown words, empty lists and unknown keys, naming each', () => {
    const bad = (auth: unknown) => {
      try {
        router({ auth } as RouteConditions);
      } catch (err) {
        expect(err).toBeInstanceOf(RouteConfigError);
        return (err as RouteConfigError).problems;
      }
      return [];
    };
    expect(bad({ dmarc: 'softfail' })).toEqual([
      expect.stringMatching(
        /when\.auth\.dmarc: "softfail" is never a dmarc result \(dmarc gives pass, fail, none/,
      ),
    ]);
    expect(bad({ spf: ['pass', 'ok'] })).toEqual([
      expect.stringMatching(/when\.auth\.spf: "ok" is not a result/),
    ]);
    expect(bad({ dkim: [] })).toEqual([expect.stringMatching(/when\.auth\.dkim: give at least one result/)]);
    expect(bad({ dmarcAligned: 'yes' })).toEqual([
      expect.stringMatching(/dmarcAligned: must be true or false/),
    ]);
    expect(bad({ arc: 'pass' })).toEqual([expect.stringMatching(/when\.auth: unknown key "arc"/)]);
    expect(bad('pass')).toEqual([expect.stringMatching(/when\.auth: must be an object/)]);
  });
});
