import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../lib/message/index.ts';
import { encodeWords, forwardMessage } from '../../../lib/outbound/forward-message.ts';
import { forwardSkipReason, MAX_FORWARD_HOPS } from '../../../lib/outbound/forward-safety.ts';

const crlf = (s: string) => Buffer.from(s.replace(/\r?\n/g, '\r\n'), 'utf8');

const original = crlf(`Return-Path: <bounce@example.net>
Received: from mx.example.net by mailroom.local; Wed, 1 May 2024 12:00:00 +0000
Authentication-Results: mailroom.local; spf=pass smtp.mailfrom=example.net
DKIM-Signature: v=1; a=rsa-sha256; d=example.net; s=s1; h=from:subject;
 bh=abc; b=def
DKIM-Signature: v=1; a=rsa-sha256; d=esp.example; s=s2; h=from; bh=abc; b=ghi
ARC-Seal: i=1; a=rsa-sha256; cv=none; d=example.net; s=s1; b=xyz
From: "Jane Doe" <jane@example.net>
Sender: list-bounces@example.net
To: Support <support@example.com>
Cc: other@example.org
Bcc: secret@example.org
Subject: Printer on fire
Subject: duplicate subject
Date: Wed, 1 May 2024 12:00:00 +0000
Message-ID: <m1@example.net>
Message-ID: <m1-again@example.net>
X-SES-CONFIGURATION-SET: attacker-set
X-SES-Spam-Verdict: PASS
Content-Length: 9
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

It's on fire.
`);

async function forwardOf(raw: Buffer, over: { fromName?: string } = {}) {
  const message = await parseMessage(raw);
  const out = forwardMessage({
    raw,
    message,
    from: { address: 'fwd@example.com', name: over.fromName ?? '' },
    to: ['ops@example.org'],
    forwardedFor: ['support@example.com'],
  });
  return { out, text: out.raw.toString('utf8'), reparsed: await parseMessage(out.raw) };
}

function headerBlock(text: string): string[] {
  return text.slice(0, text.indexOf('\r\n\r\n')).split(/\r\n(?![ \t])/);
}

describe('forwardMessage', () => {
  it('rewrites From to the verified address named after the sender, Reply-To to the sender', async () => {
    const { out, reparsed } = await forwardOf(original, { fromName: 'Support' });
    expect(reparsed.from).toEqual({ address: 'fwd@example.com', name: 'Jane Doe via Support' });
    expect(reparsed.replyTo).toEqual([{ address: 'jane@example.net', name: 'Jane Doe' }]);
    const header = (k: string) => reparsed.headers.filter((h) => h.key === k).map((h) => h.value);
    expect(header('x-original-from')).toEqual(['"Jane Doe" <jane@example.net>']);
    expect(header('x-mailroom-forwarded-for')).toEqual(['support@example.com']);
    expect(out.envelope).toEqual({ from: 'fwd@example.com', to: ['ops@example.org'] });
  });

  it('removes what SES refuses or what would break, keeps the first of single fields', async () => {
    const { out, text, reparsed } = await forwardOf(original);
    const names = headerBlock(text).map((l) => l.slice(0, l.indexOf(':')).toLowerCase());
    for (const gone of [
      'return-path',
      'authentication-results',
      'dkim-signature',
      'arc-seal',
      'sender',
      'bcc',
      'x-ses-configuration-set',
      'x-ses-spam-verdict',
      'content-length',
    ]) {
      expect(names).not.toContain(gone);
    }
    expect(names.filter((n) => n === 'subject')).toHaveLength(1);
    expect(names.filter((n) => n === 'message-id')).toHaveLength(1);
    expect(names.filter((n) => n === 'from')).toHaveLength(1);
    expect(reparsed.subject).toBe('Printer on fire');
    expect(reparsed.messageId).toBe('<m1@example.net>');
    expect(reparsed.to).toEqual([{ address: 'support@example.com', name: 'Support' }]);
    expect(reparsed.cc).toEqual([{ address: 'other@example.org', name: '' }]);
    expect(names).toContain('received');
    expect(out.removed).toEqual([
      'arc-seal',
      'authentication-results',
      'bcc',
      'content-length',
      'dkim-signature',
      'from',
      'message-id',
      'return-path',
      'sender',
      'subject',
      'x-ses-configuration-set',
      'x-ses-spam-verdict',
    ]);
  });

  it('keeps the body bytes exactly and ends every header line with CRLF', async () => {
    const { text } = await forwardOf(original);
    const body = original.subarray(original.indexOf('\r\n\r\n') + 4);
    expect(text.endsWith(body.toString('utf8'))).toBe(true);
    expect(text.slice(0, text.indexOf('\r\n\r\n'))).not.toMatch(/[^\r]\n/);
  });

  it('keeps an existing Reply-To, and says "Mailroom" when the sender gave no name', async () => {
    const raw = crlf('From: jane@example.net\nReply-To: Team <team@example.net>\nSubject: x\n\nhi\n');
    const { reparsed } = await forwardOf(raw);
    expect(reparsed.from).toEqual({ address: 'fwd@example.com', name: 'jane via Mailroom' });
    expect(reparsed.replyTo).toEqual([{ address: 'team@example.net', name: 'Team' }]);
  });

  it('encodes non-ASCII names and re-encodes 8-bit headers as 7-bit', async () => {
    const raw = crlf(
      'From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>\nTo: Zoë <zoe@example.com>\nSubject: Grüße aus Köln\nContent-Type: text/plain; charset=utf-8\n\nHallo\n',
    );
    const { text, reparsed } = await forwardOf(raw);
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    expect(/^[\x00-\x7f]*$/.test(head)).toBe(true);
    expect(reparsed.from?.name).toBe('Jürgen Müller via Mailroom');
    expect(reparsed.replyTo).toEqual([{ address: 'jm@example.de', name: 'Jürgen Müller' }]);
    expect(reparsed.subject).toBe('Grüße aus Köln');
    expect(reparsed.to).toEqual([{ address: 'zoe@example.com', name: 'Zoë' }]);
    expect(head.split('\r\n').every((l) => l.length <= 998)).toBe(true);
  });

  it('handles bare-LF mail, stray lines and a message without a From', async () => {
    const raw = Buffer.from('>From someone\nSubject: lf mail\nnot a header\n\nline1\nline2\n');
    const { out, text, reparsed } = await forwardOf(raw);
    expect(out.malformedLines).toBe(2);
    expect(text.endsWith('\r\n\r\nline1\r\nline2\r\n')).toBe(true);
    expect(reparsed.subject).toBe('lf mail');
    expect(reparsed.from).toEqual({ address: 'fwd@example.com', name: 'unknown sender via Mailroom' });
    expect(reparsed.replyTo).toEqual([]);
  });

  it('folds a long forwarded-for list', async () => {
    const raw = crlf('From: a@example.net\nSubject: x\n\nhi\n');
    const message = await parseMessage(raw);
    const forwardedFor = Array.from({ length: 10 }, (_, i) => `support-team-${i}@example.com`);
    const out = forwardMessage({
      raw,
      message,
      from: { address: 'f@example.com', name: '' },
      to: ['o@x.org'],
      forwardedFor,
    });
    const lines = out.raw.toString().split('\r\n');
    expect(lines.every((l) => l.length <= 78)).toBe(true);
    const reparsed = await parseMessage(out.raw);
    expect(reparsed.headers.find((h) => h.key === 'x-mailroom-forwarded-for')?.value.split(', ')).toEqual(
      forwardedFor,
    );
  });
});

describe('forwardMessage with hostile header fields', () => {
  /** Every line of the header block, split at any CR or LF: what the laxest next reader might see. */
  const laxLines = (out: Buffer) => {
    const text = out.toString('latin1');
    return text.slice(0, text.indexOf('\r\n\r\n')).split(/\r\n|\r|\n/);
  };
  const injected = (out: Buffer) => laxLines(out).filter((l) => /^(bcc|x-injected|to|cc)\s*:/i.test(l));
  const b64 = (s: string) => `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;

  it('a bare CR in Subject, To or an X- field never starts a field of its own', async () => {
    const raw = Buffer.from(
      'From: jane@example.net\r\nTo: ops@example.org\rBcc: evil@target.test\r\n' +
        'Subject: hello\rBcc: evil@target.test\r\nX-Note: a\rX-Injected: 1\r\n\r\nhi\r\n',
      'latin1',
    );
    const { out, reparsed } = await forwardOf(raw);
    expect(out.raw.subarray(0, out.raw.indexOf('\r\n\r\n')).toString('latin1')).not.toMatch(
      /\r(?!\n)|[^\r]\n/,
    );
    expect(injected(out.raw).map((l) => l.toLowerCase())).toEqual([
      'to: ops@example.org bcc: evil@target.test',
    ]);
    expect(reparsed.subject).toBe('hello Bcc: evil@target.test');
    expect(reparsed.headers.filter((h) => h.key === 'bcc' || h.key === 'x-injected')).toEqual([]);
  });

  it('NUL bytes and whitespace-only continuation lines are removed', async () => {
    const raw = Buffer.from(
      'From: jane@example.net\r\nSubject: a\0Bcc: evil@target.test\r\n \r\n\t\r\nX-Injected: after-blank\r\n\r\nhi\r\n',
      'latin1',
    );
    const { out, reparsed } = await forwardOf(raw);
    expect(out.raw.includes(0)).toBe(false);
    expect(laxLines(out.raw).filter((l) => l.trim() === '')).toEqual([]);
    expect(reparsed.subject).toBe('a Bcc: evil@target.test');
    // the field after the blank line stays a header field (it was one), but nothing was smuggled into it
    expect(reparsed.headers.filter((h) => h.key === 'x-injected').map((h) => h.value)).toEqual([
      'after-blank',
    ]);
  });

  it('a From name or Subject whose encoded-words decode to CRLF is written without the line break', async () => {
    const raw = Buffer.from(
      `From: ${b64('Jane\r\nBcc: evil@target.test')} <jane@example.net>\r\n` +
        `Reply-To: ${b64('Team\rX-Injected: 1')} <team@example.net>\r\n` +
        `Subject: ${b64('hi\r\nBcc: evil@target.test')}\r\n\r\nhi\r\n`,
      'latin1',
    );
    const { out, reparsed } = await forwardOf(raw, { fromName: 'Support\r\nX-Injected: 2' });
    expect(injected(out.raw)).toEqual([]);
    expect(reparsed.from).toEqual({
      address: 'fwd@example.com',
      name: 'Jane Bcc: evil@target.test via Support X-Injected: 2',
    });
    expect(reparsed.replyTo).toEqual([{ address: 'team@example.net', name: 'Team X-Injected: 1' }]);
    expect(reparsed.subject).toBe('hi Bcc: evil@target.test');
    for (const h of reparsed.headers) expect(h.value).not.toMatch(/[\r\n\0]/);
  });
});

describe('encodeWords', () => {
  it('splits long text into encoded words of at most 75 characters on character boundaries', () => {
    const words = encodeWords('Ünïcödé '.repeat(20));
    expect(words.length).toBeGreaterThan(1);
    for (const w of words) expect(w.length).toBeLessThanOrEqual(75);
    const decoded = words.map((w) => Buffer.from(w.slice(10, -2), 'base64').toString('utf8')).join('');
    expect(decoded).toBe('Ünïcödé '.repeat(20));
  });
});

describe('forwardSkipReason', () => {
  const base = async (headers: string, over: { to?: string[]; rcpt?: string[] } = {}) => {
    const message = await parseMessage(crlf(`${headers}From: jane@example.net\nSubject: x\n\nhi\n`));
    const rcpt = over.rcpt ?? ['support@example.com'];
    return forwardSkipReason({
      envelope: { mailFrom: 'jane@example.net', rcptTo: rcpt },
      message,
      to: over.to ?? ['ops@example.org'],
      recipients: rcpt,
    });
  };

  it('allows an ordinary forward, and automatic mail to other domains', async () => {
    expect(await base('')).toBeNull();
    expect(await base('Auto-Submitted: auto-replied\n')).toBeNull();
    expect(await base('Auto-Submitted: no\n', { to: ['team@example.com'] })).toBeNull();
  });

  it('refuses a forward to the address that routed it', async () => {
    expect(await base('', { to: ['Support@Example.com'] })).toBe(
      'the forward would go back to support@example.com, which routed the message here',
    );
  });

  it('refuses a message that came back round a loop', async () => {
    expect(await base('X-Mailroom-Forwarded-For: support@example.com\n')).toBe(
      'Mailroom forwarded this message from support@example.com before (X-Mailroom-Forwarded-For): a loop',
    );
    expect(await base('X-Mailroom-Forwarded-For: ops@example.org\n')).toMatch(/from ops@example.org before/);
  });

  it('refuses automatic or already forwarded mail back into our own domain', async () => {
    expect(await base('Auto-Submitted: auto-generated\n', { to: ['team@example.com'] })).toBe(
      'automatic mail (Auto-Submitted: auto-generated) is not forwarded back to our domain (team@example.com)',
    );
    expect(await base('X-Mailroom-Forwarded-For: a@example.com\n', { to: ['team@example.com'] })).toBe(
      'forwarded mail is not forwarded back to our domain (team@example.com)',
    );
  });

  it('stops after the maximum hops and at 50 Received headers', async () => {
    const hops = Array.from(
      { length: MAX_FORWARD_HOPS },
      (_, i) => `X-Mailroom-Forwarded-For: h${i}@example.net\n`,
    );
    expect(await base(hops.join(''))).toBe(`the message was forwarded ${MAX_FORWARD_HOPS} times already`);
    const received = 'Received: from a by b; Wed, 1 May 2024 12:00:00 +0000\n'.repeat(50);
    expect(await base(received)).toBe('the message has 50 Received headers (a mail loop, RFC 5321 §6.3)');
  });
});
