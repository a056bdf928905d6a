import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../lib/message/parse-message.ts';
import type { ParsedMessage } from '../../../lib/message/types.ts';
import { composeReply, replyReferences } from '../../../lib/outbound/compose-reply.ts';
import { replyRecipients } from '../../../lib/outbound/reply-recipients.ts';

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
      to: replyRecipients(original({ replyTo: [{ address: 'ada+replies@example.net', name: 'Ada' }] })),
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

describe('replyRecipients', () => {
  it('prefers Reply-To, else From; drops unusable and duplicate addresses', () => {
    expect(replyRecipients(original())).toEqual([{ address: 'ada@example.net', name: 'Ada Lovelace' }]);
    expect(
      replyRecipients(
        original({
          replyTo: [
            { address: 'team@example.net', name: 'Team' },
            { address: 'TEAM@example.net', name: '' },
            { address: 'not an address', name: '' },
          ],
        }),
      ),
    ).toEqual([{ address: 'team@example.net', name: 'Team' }]);
    expect(replyRecipients(original({ replyTo: [{ address: 'bad', name: '' }] }))).toEqual([
      { address: 'ada@example.net', name: 'Ada Lovelace' },
    ]);
    expect(replyRecipients(original({ from: null }))).toEqual([]);
    expect(replyRecipients(original({ from: { address: 'x@y@z', name: '' } }))).toEqual([]);
  });
});
