import { describe, expect, it } from 'vitest';
import { isRetryable, MailroomError } from '../../../lib/kernel/index.ts';
import { RouteConfigError, RoutingError } from '../../../lib/routing/index.ts';
import {
  BareLineEndingError,
  IngressConfigError,
  LimitError,
  MessageTooBigError,
  PipeliningError,
  ProxyProtocolError,
  RecipientRejectedError,
  SmtpReplyError,
  TemporaryFailureError,
  TooManyRecipientsError,
} from '../../../lib/smtp/index.ts';
import { TlsConfigError } from '../../../lib/tls/index.ts';

describe('SMTP errors', () => {
  it('carry their reply as smtpReply, with responseCode (what smtp-server reads) derived from it', () => {
    const cases: Array<[SmtpReplyError, number, string | undefined, boolean]> = [
      [new MessageTooBigError(10), 552, '5.3.4', false],
      [new TooManyRecipientsError(5), 452, '4.5.3', true],
      [new RecipientRejectedError('a@b.test', 550, '5.1.1 no such user'), 550, '5.1.1', false],
      [new TemporaryFailureError('try later'), 451, '4.3.0', true],
      [new BareLineEndingError('bare LF'), 550, '5.5.2', false],
      [new PipeliningError('before 354'), 554, '5.5.0', false],
      [new LimitError('messageRatePerIp', 450, '4.7.1 Too many messages'), 450, '4.7.1', true],
      [new ProxyProtocolError('malformed PROXY header'), 421, '4.7.0', true],
      [new SmtpReplyError(535, '5.7.8 Authentication credentials invalid'), 535, '5.7.8', false],
      [new SmtpReplyError(550, 'no enhanced code'), 550, undefined, false],
    ];
    for (const [err, code, enhanced, retryable] of cases) {
      expect(err).toBeInstanceOf(MailroomError);
      expect(err.smtpReply, err.name).toEqual(enhanced ? { code, enhanced } : { code });
      expect(err.responseCode, err.name).toBe(code);
      expect(err.retryable, err.name).toBe(retryable);
      expect(isRetryable(err), err.name).toBe(retryable);
    }
  });

  it('keep the reply text and the cause', () => {
    const cause = new Error('disk full');
    const err = new TemporaryFailureError('Could not store the message, try again later', { cause });
    expect(err.message).toBe('4.3.0 Could not store the message, try again later');
    expect(err.cause).toBe(cause);
    expect(err.name).toBe('TemporaryFailureError');
  });

  it('RoutingError: smtpReply, code, enhanced and responseCode agree; 4xx retryable, 5xx not', () => {
    const refused = RoutingError.from({ code: 550, message: '5.7.1 relaying denied' });
    expect(refused).toBeInstanceOf(MailroomError);
    expect(refused.smtpReply).toEqual({ code: 550, enhanced: '5.7.1' });
    expect([refused.code, refused.responseCode, refused.enhanced]).toEqual([550, 550, '5.7.1']);
    expect(refused.retryable).toBe(false);
    const later = new RoutingError(450, 'mailbox busy');
    expect(later.smtpReply).toEqual({ code: 450, enhanced: '4.0.0' });
    expect(later.retryable).toBe(true);
  });

  it('configuration errors are MailroomErrors that are not worth retrying', () => {
    for (const err of [new IngressConfigError('x'), new TlsConfigError('x'), new RouteConfigError(['x'])]) {
      expect(err).toBeInstanceOf(MailroomError);
      expect(err.retryable, err.name).toBe(false);
      expect(err.smtpReply, err.name).toBeUndefined();
    }
  });
});
