import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { uncheckedVerdicts } from '../../../lib/auth/verdicts.ts';
import { parseMessage } from '../../../lib/message/parse-message.ts';
import type { ParsedMessage } from '../../../lib/message/types.ts';
import { composeReply, replyReferences } from '../../../lib/outbound/compose-reply.ts';
import { OutboundConfigError } from '../../../lib/outbound/errors.ts';
import { type ReplyRecipientInput, replyRecipient } from '../../../lib/outbound/reply-recipients.ts';
import { dmarcPass } from '../../support/verdicts.ts';

function original(over: Partial<ParsedMessage> = {}): ParsedMessage {
  return {
    messageId: '<CAJ2kQ7sPq0VvW3m@mail.gmail.com>',
    date: null,
    subject: 'Printer on fire',
    from: { address: 'ada@example.net', name: 'Ada Lovelace' },
    to: [{ address: 'support@example.com', name: '' }],
    cc: [],
    replyTo: [],
    inReplyTo: '<parent@example.com>',
    references: ['<root@mail.gmail.com>', '<parent@example.com>'],
    text: 'help',
    html: null,
    attachments: [],
    headers: [],
    reply: { text: 'help', signature: null },
    thread: { id: 't1' },
    problems: [],
    ...over,
  };
}

const from = { address: 'support@example.com', name: 'Example Support' };

describe('composeReply', () => {
  it('builds a threaded automatic reply that parses back to what was asked', async () => {
    const reply = await composeReply({
      original: original(),
      from,
      to: [{ address: 'ada+replies@example.net', name: 'Ada' }],
      messageId: '<abc123@example.com>',
      date: new Date('2024-05-01T12:00:00.000Z'),
      options: {
        text: 'We are on it.',
        html: '<p>We are on it.</p>',
        attachments: [{ filename: 'steps.txt', content: 'step 1: leave', contentType: 'text/plain' }],
      },
    });
    expect(reply.envelope).toEqual({ from: 'support@example.com', to: ['ada+replies@example.net'] });
    expect(reply.raw.includes('\r\n\r\n')).toBe(true);
    expect(/[^\r]\n/.test(reply.raw.toString('latin1'))).toBe(false);
    const parsed = await parseMessage(reply.raw);
    expect(parsed.problems).toEqual([]);
    expect(parsed.messageId).toBe('<abc123@example.com>');
    expect(parsed.subject).toBe('Re: Printer on fire');
    expect(parsed.from).toEqual(from);
    expect(parsed.to).toEqual([{ address: 'ada+replies@example.net', name: 'Ada' }]);
    expect(parsed.inReplyTo).toBe('<CAJ2kQ7sPq0VvW3m@mail.gmail.com>');
    expect(parsed.references).toEqual([
      '<root@mail.gmail.com>',
      '<parent@example.com>',
      '<CAJ2kQ7sPq0VvW3m@mail.gmail.com>',
    ]);
    expect(parsed.date).toBe('2024-05-01T12:00:00.000Z');
    const header = (key: string) => parsed.headers.find((h) => h.key === key)?.value;
    expect(header('auto-submitted')).toBe('auto-replied');
    expect(header('x-auto-response-suppress')).toBe('All');
    expect(header('bcc')).toBeUndefined();
    expect(parsed.text?.trim()).toBe('We are on it.');
    expect(parsed.html).toContain('<p>We are on it.</p>');
    expect(parsed.attachments).toEqual([
      expect.objectContaining({
        filename: 'steps.txt',
        size: 13,
        sha256: createHash('sha256').update('step 1: leave').digest('hex'),
      }),
    ]);
  });

  it('leaves Auto-Submitted out of a reply a person wrote, and keeps a Re: subject', async () => {
    const reply = await composeReply({
      original: original({ subject: 'AW: Angebot', references: [], inReplyTo: null }),
      from,
      to: [{ address: 'ada@example.net', name: '' }],
      messageId: '<x@example.com>',
      date: new Date(),
      options: { text: 'Hallo', automatic: false },
    });
    const parsed = await parseMessage(reply.raw);
    expect(parsed.subject).toBe('AW: Angebot');
    expect(parsed.headers.some((h) => h.key === 'auto-submitted')).toBe(false);
    expect(parsed.references).toEqual(['<CAJ2kQ7sPq0VvW3m@mail.gmail.com>']);
    expect(parsed.inReplyTo).toBe('<CAJ2kQ7sPq0VvW3m@mail.gmail.com>');
  });

  it('keeps hostile input out of the headers', async () => {
    const reply = await composeReply({
      original: original({ subject: 'Hi\r\nBcc: victim@example.org\r\n\r\nbody' }),
      from,
      to: [{ address: 'ada@example.net', name: 'Ada\r\nBcc: victim@example.org' }],
      messageId: '<x@example.com>',
      date: new Date(),
      options: { text: 'ok' },
    });
    const text = reply.raw.toString('latin1');
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    expect(head).not.toMatch(/^Bcc:/im);
    expect(reply.envelope.to).toEqual(['ada@example.net']);
  });
});

describe('replyReferences', () => {
  it('follows RFC 5322: References, else In-Reply-To, then the Message-ID', () => {
    expect(replyReferences(original())).toEqual([
      '<root@mail.gmail.com>',
      '<parent@example.com>',
      '<CAJ2kQ7sPq0VvW3m@mail.gmail.com>',
    ]);
    expect(replyReferences(original({ references: [] }))).toEqual([
      '<parent@example.com>',
      '<CAJ2kQ7sPq0VvW3m@mail.gmail.com>',
    ]);
    expect(replyReferences(original({ references: [], inReplyTo: null, messageId: null }))).toEqual([]);
  });

  it('keeps the root and the nearest ids of a long chain and drops unusable ids', () => {
    const long = Array.from({ length: 60 }, (_, i) => `<r${i}@example.net>`);
    const refs = replyReferences(original({ references: [...long, '<bad id@x>', `<${'x'.repeat(300)}@x>`] }));
    expect(refs).toHaveLength(20);
    expect(refs[0]).toBe('<r0@example.net>');
    expect(refs.at(-2)).toBe('<r59@example.net>');
    expect(refs.at(-1)).toBe('<CAJ2kQ7sPq0VvW3m@mail.gmail.com>');
  });
});

describe('replyRecipient', () => {
  const envelope = { mailFrom: 'bounce+ada@mail.example.net', rcptTo: ['support@example.com'] };
  const pick = (message: ParsedMessage, over: Partial<ReplyRecipientInput> = {}) =>
    replyRecipient({ message, envelope, auth: uncheckedVerdicts('test'), ...over });
  const team = [
    { address: 'not an address', name: '' },
    { address: 'team@example.net', name: 'Team\r\nBcc: x@y' },
    { address: 'other@example.net', name: '' },
  ];

  it('unauthenticated: the envelope sender, named after From only when it is the same address', () => {
    expect(pick(original({ replyTo: team }))).toEqual({
      address: { address: 'bounce+ada@mail.example.net', name: '' },
      via: 'envelope sender',
    });
    const same = { ...envelope, mailFrom: 'ADA@example.net' };
    expect(pick(original(), { envelope: same })).toEqual({
      address: { address: 'ADA@example.net', name: 'Ada Lovelace' },
      via: 'envelope sender',
    });
    expect(pick(original(), { envelope: { ...envelope, mailFrom: '<>' } })).toMatchObject({ address: null });
  });

  it('authenticated (DMARC): the first usable Reply-To only, else From', () => {
    const auth = dmarcPass('example.net');
    expect(pick(original({ replyTo: team }), { auth })).toEqual({
      address: { address: 'team@example.net', name: 'Team Bcc: x@y' },
      via: 'reply-to',
    });
    expect(pick(original(), { auth })).toEqual({
      address: { address: 'ada@example.net', name: 'Ada Lovelace' },
      via: 'from',
    });
    expect(pick(original({ from: { address: 'x@y@z', name: '' } }), { auth })).toMatchObject({
      via: 'envelope sender',
    });
  });

  it('the handler decides: useReplyTo, or one explicit address', () => {
    expect(pick(original({ replyTo: team }), { useReplyTo: true })).toMatchObject({
      address: { address: 'team@example.net' },
      via: 'reply-to',
    });
    expect(pick(original(), { useReplyTo: true })).toMatchObject({ via: 'envelope sender' });
    expect(pick(original(), { to: { address: 'ops@example.org', name: 'Ops\u0000' } })).toEqual({
      address: { address: 'ops@example.org', name: 'Ops' },
      via: 'to',
    });
    expect(pick(original(), { to: 'a@x.test\r\nBcc: b@x.test' })).toEqual({
      address: null,
      reason: expect.stringMatching(/is not a plain mailbox/),
    });
  });
});

describe('composeReply with hostile input', () => {
  const b64 = (s: string) => `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
  /** Header lines as the laxest reader would split them (at any CR or LF). */
  const laxLines = (raw: Buffer) => {
    const text = raw.toString('latin1');
    return text.slice(0, text.indexOf('\r\n\r\n')).split(/\r\n|\r|\n/);
  };

  it('no line break from the original reaches a header, raw or decoded', async () => {
    // Parsed from real bytes: a bare CR in Subject, and a From name that is an encoded CRLF.
    const parsedOriginal = await parseMessage(
      Buffer.from(
        `From: ${b64('Eve\r\nBcc: victim@target.test')} <eve@example.net>\r\n` +
          'Subject: hi\rBcc: victim@target.test\r\nMessage-ID: <m@example.net>\r\n\r\nx\r\n',
        'latin1',
      ),
    );
    const to = replyRecipient({
      message: parsedOriginal,
      envelope: { mailFrom: 'eve@example.net', rcptTo: [] },
      auth: uncheckedVerdicts('test'),
    });
    expect(to.address).not.toBeNull();
    const reply = await composeReply({
      original: parsedOriginal,
      from: { address: 'support@example.com', name: 'Support\nX-Injected: 1' },
      to: [to.address!],
      messageId: '<r@example.com>',
      date: new Date(0),
      options: { text: 'ok', attachments: [{ filename: `a\r\nBcc: v@target.test.txt`, content: 'x' }] },
    });
    expect(laxLines(reply.raw).filter((l) => /^(bcc|x-injected)\s*:/i.test(l))).toEqual([]);
    const parsed = await parseMessage(reply.raw);
    for (const h of parsed.headers) expect(h.value).not.toMatch(/[\r\n\0]/);
    expect(parsed.subject).toBe('Re: hi Bcc: victim@target.test');
    expect(parsed.to).toEqual([{ address: 'eve@example.net', name: 'Eve Bcc: victim@target.test' }]);
    expect(parsed.from?.name).toBe('Support X-Injected: 1');
    expect(parsed.attachments[0]?.filename).toBe('a Bcc: v@target.test.txt');
  });

  it('refuses a replyTo that is not one mailbox', async () => {
    const err = await composeReply({
      original: original(),
      from,
      to: [{ address: 'ada@example.net', name: '' }],
      messageId: '<r@example.com>',
      date: new Date(0),
      options: { text: 'x', replyTo: 'a@example.com\r\nBcc: v@target.test' },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(OutboundConfigError);
  });
});
