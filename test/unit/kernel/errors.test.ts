import { describe, expect, it } from 'vitest';
import { DnsError } from '../../../lib/auth/index.ts';
import { ConfigError } from '../../../lib/config/index.ts';
import { isRetryable, MailroomError, smtpReplyLine } from '../../../lib/kernel/index.ts';
import { OutboundConfigError, OutboundError } from '../../../lib/outbound/index.ts';

describe('MailroomError', () => {
  it('carries retryable, the SMTP reply and the cause', () => {
    const cause = new Error('disk full');
    const err = new MailroomError('cannot store', {
      retryable: true,
      smtpReply: { code: 451, enhanced: '4.3.0' },
      cause,
    });
    expect(err).toBeInstanceOf(Error);
    expect(err.retryable).toBe(true);
    expect(err.smtpReply).toEqual({ code: 451, enhanced: '4.3.0' });
    expect(err.cause).toBe(cause);
    expect(smtpReplyLine(err.smtpReply ?? { code: 0 }, err.message)).toBe('451 4.3.0 cannot store');
    expect(smtpReplyLine({ code: 421 }, 'bye')).toBe('421 bye');
  });
});

describe('isRetryable', () => {
  it('asks a MailroomError', () => {
    expect(isRetryable(new MailroomError('x', { retryable: false }))).toBe(false);
    expect(isRetryable(new MailroomError('x', { retryable: true }))).toBe(true);
  });

  it('reads AWS SDK faults: throttling and server faults retry, other client faults do not', () => {
    expect(isRetryable({ name: 'AccessDenied', $fault: 'client' })).toBe(false);
    expect(
      isRetryable({ name: 'ThrottlingException', $fault: 'client', $retryable: { throttling: true } }),
    ).toBe(true);
    expect(isRetryable({ name: 'InternalError', $fault: 'server' })).toBe(true);
  });

  it('treats anything else (a handler error, a socket error) as transient', () => {
    expect(isRetryable(new Error('ECONNRESET'))).toBe(true);
    expect(isRetryable('thrown string')).toBe(true);
  });

  it('is decided by each module for its own errors', () => {
    expect(isRetryable(new ConfigError(['routes: required']))).toBe(false);
    expect(isRetryable(new OutboundConfigError('no transport'))).toBe(false);
    expect(isRetryable(new OutboundError('relay said 550', { responseCode: 550 }))).toBe(false);
    expect(isRetryable(new OutboundError('relay said 451', { responseCode: 451 }))).toBe(true);
    expect(isRetryable(new OutboundError('connection reset'))).toBe(true);
    expect(isRetryable(new DnsError('ETIMEOUT', 'example.com', 'TXT'))).toBe(true);
    expect(isRetryable(new DnsError('ENOTFOUND', 'example.com', 'TXT'))).toBe(false);
  });
});
