import { describe, expect, it } from 'vitest';
import { drop, mailbox } from '../../../lib/actions/builders.ts';
import { actionKindNames } from '../../../lib/actions/index.ts';
import { ConfigError, configWarnings, resolveConfig } from '../../../lib/config/index.ts';

const base = { domains: ['example.com'], routes: [] };
/** Every registered kind, in registry order (the built-in ones pinned in action-registry.test.ts). */
const KINDS = actionKindNames().join(', ');

const problemsOf = (options: unknown): string[] => {
  try {
    resolveConfig(options);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
};

const route = (extra: Record<string, unknown>) => ({ match: 'a@example.com', action: drop(), ...extra });

describe('config problems: enum-like fields name the field and the values allowed', () => {
  it('an action kind, alone or in a list, given or missing', () => {
    expect(problemsOf({ ...base, routes: [route({ action: { kind: 'mailboxx', mailbox: 'a' } })] })).toEqual([
      `routes[0].action.kind: must be one of ${KINDS}, got 'mailboxx'`,
    ]);
    expect(problemsOf({ ...base, routes: [route({ action: [mailbox('a'), { kind: 'nope' }] })] })).toEqual([
      `routes[0].action[1].kind: must be one of ${KINDS}, got 'nope'`,
    ]);
    expect(problemsOf({ ...base, routes: [route({ action: { mailbox: 'a' } })] })).toEqual([
      `routes[0].action.kind: must be one of ${KINDS}, got nothing`,
    ]);
    // Not an action at all: the hint of what one looks like.
    expect(problemsOf({ ...base, routes: [route({ action: 'support' })] })).toEqual([
      'routes[0].action: must be an action such as mailbox("support") or handler(fn), or a list of them',
    ]);
  });

  it('a known kind with a bad field still names that field', () => {
    expect(problemsOf({ ...base, routes: [route({ action: { kind: 'mailbox', mailbox: '' } })] })).toEqual([
      'routes[0].action.mailbox: mailbox names are 1–64 letters, digits, dot, underscore or dash',
    ]);
  });

  it('verdict conditions list the results of their own method', () => {
    expect(problemsOf({ ...base, routes: [route({ when: { auth: { spf: 'passs' } } })] })).toEqual([
      "routes[0].when.auth.spf: must be one of pass, fail, softfail, neutral, none, temperror, permerror, got 'passs'",
    ]);
    expect(problemsOf({ ...base, routes: [route({ when: { auth: { dkim: ['pass', 'ok'] } } })] })).toEqual([
      "routes[0].when.auth.dkim[1]: must be one of pass, fail, neutral, none, policy, temperror, permerror, got 'ok'",
    ]);
  });

  it('outbound.mode, smtp.tls and DNS zone errors', () => {
    expect(problemsOf({ ...base, outbound: { mode: 'relay' } })).toEqual([
      "outbound.mode: must be one of outbox, smtp, got 'relay'",
    ]);
    expect(problemsOf({ ...base, smtp: { tls: 'selfsigned' } })).toEqual([
      "smtp.tls: must be one of self-signed, false, an object, got 'selfsigned'",
    ]);
    expect(problemsOf({ ...base, auth: { dns: { 'a.test': { error: 'NXDOMAIN' } } } })).toEqual([
      `auth.dns["a.test"].error: must be one of ENOTFOUND, ENODATA, ETIMEOUT, ESERVFAIL, EREFUSED, got 'NXDOMAIN'`,
    ]);
  });

  it('reports every problem at once, types and unknown keys in the same words', () => {
    expect(
      problemsOf({
        ...base,
        routes: [route({ action: { kind: 'mailboxx' } }), route({ mach: 'x@example.com' })],
        smtp: { port: 'x', tls: 'y' },
        outbound: { mode: 'z' },
      }),
    ).toEqual([
      `routes[0].action.kind: must be one of ${KINDS}, got 'mailboxx'`,
      "routes[1]: unknown key 'mach'",
      "smtp.port: must be a number, got 'x'",
      "smtp.tls: must be one of self-signed, false, an object, got 'y'",
      "outbound.mode: must be one of outbox, smtp, got 'z'",
    ]);
    expect(problemsOf({ routes: [] })).toEqual(['domains: is required (a list)']);
  });
});

describe('config warnings', () => {
  it('a route for a domain we do not receive for: a warning, not an error', () => {
    const config = resolveConfig({
      domains: ['example.com', 'example.org'],
      routes: [
        { name: 'orders', match: 'orders@other.test', action: mailbox('orders') },
        { match: [{ domain: 'other.test' }, 'x@example.com'], action: drop() },
        { name: 'subs', match: '*@*.example.net', action: drop() },
      ],
    });
    expect(configWarnings(config)).toEqual([
      "route 'orders' matches orders@other.test, but other.test is not in domains [example.com, example.org]: " +
        'mail for it is refused at RCPT (550 5.7.1), so this pattern never matches',
      "routes[1] matches { domain: 'other.test' }, but other.test is not in domains [example.com, example.org]: " +
        'mail for it is refused at RCPT (550 5.7.1), so this pattern never matches',
      "route 'subs' matches *@*.example.net, but no domain in domains [example.com, example.org] matches " +
        '*.example.net: mail for it is refused at RCPT (550 5.7.1), so this pattern never matches',
    ]);
    // The warnings are not part of the config object.
    expect(Object.keys(config)).not.toContain('warnings');
  });

  it('none for domains in the list (any case), wildcards covering one, or a RegExp', () => {
    const config = resolveConfig({
      domains: ['Example.com', 'mail.example.org'],
      routes: [
        { match: 'a@EXAMPLE.COM', action: drop() },
        { match: '*@*.example.org', action: drop() },
        { match: '@*', action: drop() },
        { match: /@other\.test$/, action: drop() },
      ],
    });
    expect(configWarnings(config)).toEqual([]);
  });
});
