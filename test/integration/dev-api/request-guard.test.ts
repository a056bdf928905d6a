import type { IncomingMessage } from 'node:http';
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { HttpError } from '../../../lib/dev/errors.ts';
import { checkHost, configuredHostnames, isLoopbackHostname } from '../../../lib/dev/request-guard.ts';

/** The Host rules for a server bound elsewhere than loopback (the tests' servers only listen on 127.0.0.1). */
const withHost = (host: string) => ({ headers: { host } }) as IncomingMessage;
const refused = (host: string, configHost: string) => {
  try {
    checkHost(withHost(host), configHost);
    return false;
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(403);
    return true;
  }
};

describe('Host rules', () => {
  it('knows the loopback names and addresses', () => {
    for (const ok of ['localhost', 'a.b.localhost', '127.0.0.1', '127.255.0.9', '[::1]']) {
      expect(isLoopbackHostname(ok), ok).toBe(true);
    }
    for (const no of ['localhost.evil.test', 'evillocalhost', '128.0.0.1', '[::2]', '0.0.0.0']) {
      expect(isLoopbackHostname(no), no).toBe(false);
    }
  });

  it('also answers the configured non-loopback host, and only it', () => {
    expect(refused('192.0.2.10:8025', '192.0.2.10')).toBe(false);
    expect(refused('dev.internal:8025', 'dev.internal')).toBe(false);
    expect(refused('[2001:db8::1]:8025', '2001:db8::1')).toBe(false);
    expect(refused('[2001:db8:0:0:0:0:0:1]', '2001:db8::1')).toBe(false);
    expect(refused('localhost:8025', '192.0.2.10')).toBe(false);
    expect(refused('192.0.2.11:8025', '192.0.2.10')).toBe(true);
    expect(refused('evil.test', '192.0.2.10')).toBe(true);
    expect(refused('evil.test', '127.0.0.1')).toBe(true);
  });

  it('bound to a wildcard, answers the machine’s own addresses but no name', () => {
    const own = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a?.family === 'IPv4')
      .map((a) => a!.address);
    expect(own.length).toBeGreaterThan(0);
    for (const address of own) expect(refused(`${address}:8025`, '0.0.0.0')).toBe(false);
    expect(configuredHostnames('::').size).toBeGreaterThan(0);
    expect(refused('evil.test:8025', '0.0.0.0')).toBe(true);
    expect(refused('192.0.2.200', '0.0.0.0')).toBe(!own.includes('192.0.2.200'));
  });
});
