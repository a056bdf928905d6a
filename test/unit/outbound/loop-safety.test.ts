import { describe, expect, it } from 'vitest';
import type { ParsedMessage } from '../../../lib/message/types.ts';
import { type LoopCheckInput, replySkipReason } from '../../../lib/outbound/loop-safety.ts';

function message(headers: Array<[string, string]> = []): ParsedMessage {
  return {
    messageId: '<m1@example.net>',
    date: null,
    subject: 'Hello',
    from: { address: 'ada@example.net', name: 'Ada' },
    to: [{ address: 'support@example.com', name: '' }],
    cc: [],
    replyTo: [],
    inReplyTo: null,
    references: [],
    text: 'hi',
    html: null,
    attachments: [],
    headers: headers.map(([key, value]) => ({ key, value })),
    reply: { text: 'hi', signature: null },
    thread: { id: 't1' },
    problems: [],
  };
}

function input(over: Partial<LoopCheckInput> = {}): LoopCheckInput {
  return {
    envelope: { mailFrom: 'bounces+123@example.net', rcptTo: ['support@example.com'] },
    message: message(),
    to: ['ada@example.net'],
    from: 'support@example.com',
    automatic: true,
    ...over,
  };
}

describe('replySkipReason', () => {
  it('allows a reply to an ordinary message', () => {
    expect(replySkipReason(input())).toBeNull();
    expect(replySkipReason(input({ message: message([['auto-submitted', 'no']]) }))).toBeNull();
    expect(replySkipReason(input({ message: message([['precedence', 'first-class']]) }))).toBeNull();
  });

  it('never answers the null sender, automatic or not', () => {
    for (const automatic of [true, false]) {
      for (const mailFrom of ['', '<>', ' ']) {
        expect(replySkipReason(input({ automatic, envelope: { mailFrom, rcptTo: [] } }))).toMatch(
          /null sender/,
        );
      }
    }
  });

  it('needs an address and never answers itself', () => {
    expect(replySkipReason(input({ to: [] }))).toMatch(/no usable Reply-To or From/);
    expect(replySkipReason(input({ to: ['SUPPORT@example.com'], automatic: false }))).toMatch(
      /its own From address/,
    );
  });

  it.each([
    [['auto-submitted', 'auto-replied'], /Auto-Submitted: auto-replied/],
    [['auto-submitted', 'auto-generated; owner-email="x@example.net"'], /Auto-Submitted: auto-generated/],
    [['auto-submitted', 'Auto-Notified'], /Auto-Submitted: auto-notified/],
    [['precedence', 'bulk'], /Precedence: bulk/],
    [['precedence', 'LIST'], /Precedence: list/],
    [['precedence', 'junk'], /Precedence: junk/],
    [['list-id', 'Announcements <announce.example.net>'], /list mail \(List-Id\)/],
    [['list-unsubscribe', '<mailto:unsub@example.net>'], /list mail \(List-Unsubscribe\)/],
    [['x-auto-response-suppress', 'All'], /X-Auto-Response-Suppress/],
    [['x-auto-response-suppress', 'DR, OOF, AutoReply'], /X-Auto-Response-Suppress/],
    [['x-autoreply', 'yes'], /automatic reply/],
    [['content-type', 'multipart/report; report-type=delivery-status; boundary="x"'], /multipart\/report/],
  ] as Array<[[string, string], RegExp]>)('skips an automatic reply to %j', (header, reason) => {
    expect(replySkipReason(input({ message: message([header]) }))).toMatch(reason);
    // a reply a person asked for (automatic: false) still goes out
    expect(replySkipReason(input({ message: message([header]), automatic: false }))).toBeNull();
  });

  it('skips automatic replies to MAILER-DAEMON, owner-* and *-request addresses', () => {
    expect(
      replySkipReason(input({ envelope: { mailFrom: 'MAILER-DAEMON@mx.example.net', rcptTo: [] } })),
    ).toMatch(/system address/);
    expect(replySkipReason(input({ to: ['owner-announce@example.net'] }))).toMatch(/system address/);
    expect(replySkipReason(input({ to: ['announce-request@example.net'] }))).toMatch(/system address/);
    expect(replySkipReason(input({ to: ['announce-request@example.net'], automatic: false }))).toBeNull();
  });
});
