import { describe, expect, it } from 'vitest';
import { DnsError } from '../../../lib/auth/index.ts';
import { isRetryable, MailroomError } from '../../../lib/kernel/index.ts';

describe('DnsError', () => {
  it('carries what mailauth and callers read: code, hostname, rrtype, retryable, cause, message', () => {
    const cause = new Error('c-ares said no');
    const err = new DnsError('ESERVFAIL', 'example.com', 'TXT', { cause });
    expect(err).toBeInstanceOf(DnsError);
    expect(err).toBeInstanceOf(MailroomError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('DnsError');
    expect(err.message).toBe('TXT example.com: ESERVFAIL');
    expect(err.code).toBe('ESERVFAIL');
    expect(err.hostname).toBe('example.com');
    expect(err.rrtype).toBe('TXT');
    expect(err.retryable).toBe(true);
    expect(err.cause).toBe(cause);
    expect(isRetryable(err)).toBe(true);
  });

  it('says that "nothing published" is final and trouble is not', () => {
    expect(new DnsError('ENOTFOUND', 'a.test', 'TXT').retryable).toBe(false);
    expect(new DnsError('ENODATA', 'a.test', 'MX').retryable).toBe(false);
    expect(new DnsError('ETIMEOUT', 'a.test', 'TXT').retryable).toBe(true);
    expect(new DnsError('EREFUSED', 'a.test', 'TXT').retryable).toBe(true);
    expect(new DnsError('ENOTFOUND', 'a.test', 'TXT').cause).toBeUndefined();
  });

  it('captures no stack trace (it is an everyday answer), and leaves the process-wide limit as it was', () => {
    const before = Error.stackTraceLimit;
    const err = new DnsError('ENOTFOUND', 'nowhere.test', 'TXT');
    expect(err.stack).toBe('DnsError: TXT nowhere.test: ENOTFOUND');
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error('other').stack).toMatch(/\n\s+at /);
  });
});
