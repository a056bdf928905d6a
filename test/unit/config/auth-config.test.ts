import { describe, expect, it } from 'vitest';
import { mailbox } from '../../../lib/actions/builders.ts';
import type { DnsResolver } from '../../../lib/auth/dns-resolver.ts';
import { recipeOf } from '../../../lib/auth/index.ts';
import { ConfigError, resolveConfig } from '../../../lib/config/index.ts';

const base = { domains: ['example.com'], routes: [] };

const problemsOf = (options: unknown): string[] => {
  try {
    resolveConfig(options);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
};

describe('config: auth', () => {
  it('defaults the authserv-id to smtp.hostname and a resolver (never called here)', () => {
    const config = resolveConfig({ ...base, smtp: { hostname: 'MX.Example.COM.' } });
    expect(config.auth.authservId).toBe('mx.example.com');
    expect(typeof config.auth.resolver).toBe('function');
    expect(resolveConfig(base).auth.authservId).toBe('mailroom.local');
  });

  it('answers from a static zone given as auth.dns', async () => {
    const config = resolveConfig({
      ...base,
      auth: { authservId: 'mx.example.com', dns: { 'example.net': { TXT: ['v=spf1 -all'] } } },
    });
    expect(config.auth.authservId).toBe('mx.example.com');
    expect(await config.auth.resolver('example.net', 'TXT')).toEqual([['v=spf1 -all']]);
    await expect(config.auth.resolver('other.example', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });

  it('uses the resolver given', () => {
    const resolver: DnsResolver = async () => [];
    expect(resolveConfig({ ...base, auth: { resolver } }).auth.resolver).toBe(resolver);
  });

  it('names every bad auth field', () => {
    expect(problemsOf({ ...base, auth: { authservId: 'mx example;com' } })).toEqual([
      expect.stringMatching(/^auth\.authservId: must be a host name/),
    ]);
    expect(problemsOf({ ...base, auth: { resolver: async () => [], dns: {} } })).toEqual([
      'auth.dns: give either resolver or dns, not both',
    ]);
    expect(problemsOf({ ...base, auth: { resolver: 'system' } })).toEqual([
      expect.stringMatching(/^auth\.resolver: must be a function/),
    ]);
    expect(problemsOf({ ...base, auth: { dns: { 'a.example': { TXT: 'v=spf1 -all' } } } })[0]).toMatch(
      /^auth\.dns\["a\.example"\]\.TXT: must be a list/,
    );
    expect(problemsOf({ ...base, auth: { dnsZone: {} } })[0]).toMatch(/^auth: .*dnsZone/);
    expect(problemsOf({ ...base, smtp: { hostname: 'bad host' } })).toEqual([
      'auth.authservId: smtp.hostname "bad host" is not a host name; set auth.authservId',
    ]);
  });

  it('auth.cacheSeconds: 60 by default, 0 turns it off, validated', () => {
    expect(resolveConfig(base).auth.cacheSeconds).toBe(60);
    expect(resolveConfig({ ...base, auth: { cacheSeconds: 0 } }).auth.cacheSeconds).toBe(0);
    // The default system resolver keeps DNS answers as long (and says so to the auth workers).
    expect(recipeOf(resolveConfig(base).auth.resolver)).toMatchObject({ options: { cacheSeconds: 60 } });
    const off = recipeOf(resolveConfig({ ...base, auth: { cacheSeconds: 0 } }).auth.resolver);
    expect(off).toMatchObject({ kind: 'system' });
    expect(off?.kind === 'system' && off.options.cacheSeconds).toBeUndefined();
    expect(problemsOf({ ...base, auth: { cacheSeconds: -1 } })).toEqual([
      'auth.cacheSeconds: must be 0 (no cache) or more',
    ]);
    expect(problemsOf({ ...base, auth: { cacheSeconds: 1.5 } })).toEqual([
      'auth.cacheSeconds: must be a whole number of seconds',
    ]);
    expect(problemsOf({ ...base, auth: { cacheSeconds: 7200 } })).toEqual([
      'auth.cacheSeconds: must be at most 3600 (an hour)',
    ]);
    expect(problemsOf({ ...base, auth: { cacheSeconds: '60' } })[0]).toMatch(/^auth\.cacheSeconds: /);
  });

  it('validates route conditions on verdicts', () => {
    const route = (auth: unknown) => ({
      ...base,
      routes: [{ match: 'invoices@example.com', when: { auth }, action: mailbox('invoices') }],
    });
    expect(() =>
      resolveConfig(route({ dmarc: 'pass', dkim: ['pass', 'policy'], dmarcAligned: true })),
    ).not.toThrow();
    expect(problemsOf(route({ dmarc: 'passed' }))[0]).toMatch(/^routes\[0\]\.when\.auth\.dmarc: /);
    expect(problemsOf(route({ spf: [] }))).toContain('routes[0].when.auth.spf: give at least one result');
    // Each method lists the results it can give.
    expect(problemsOf(route({ dmarc: 'policy' }))).toEqual([
      "routes[0].when.auth.dmarc: must be one of pass, fail, none, temperror, permerror, got 'policy'",
    ]);
    expect(problemsOf(route({ arc: 'pass' }))[0]).toMatch(/^routes\[0\]\.when\.auth: .*arc/);
  });
});
