import { describe, expect, it } from 'vitest';
import { embeddedMessageName } from '../../../lib/message/attachment-policy.ts';
import { parseMessage } from '../../../lib/message/index.ts';

const HEAD =
  'From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nSubject: Policy\r\nDate: Sun, 06 Dec 2026 10:00:00 +0000\r\n' +
  'Message-ID: <p@example.com>\r\nMIME-Version: 1.0\r\n';

/** A multipart message: `parts` are [headers, body] pairs. */
function multipart(type: string, parts: Array<[string, string]>): Buffer {
  const body = parts.map(([h, b]) => `--B\r\n${h}\r\n\r\n${b}\r\n`).join('');
  return Buffer.from(`${HEAD}Content-Type: multipart/${type}; boundary="B"\r\n\r\n${body}--B--\r\n`);
}

const nested = (type: string, parts: Array<[string, string]>): [string, string] => {
  const body = parts.map(([h, b]) => `--C\r\n${h}\r\n\r\n${b}\r\n`).join('');
  return [`Content-Type: multipart/${type}; boundary="C"`, `${body}--C--`];
};

describe('attachment policy: text parts', () => {
  it('lists a named inline text part after the body as an attachment with its decoded size', async () => {
    const notes = Buffer.from('line one\nline two\n').toString('base64');
    const m = await parseMessage(
      multipart('mixed', [
        ['Content-Type: text/plain; charset=utf-8', 'Hello Bob'],
        [
          'Content-Type: text/plain; name="notes.txt"\r\nContent-Disposition: inline; filename="notes.txt"\r\nContent-Transfer-Encoding: base64',
          notes,
        ],
      ]),
    );
    expect(m.text).toBe('Hello Bob');
    expect(m.attachments.map((a) => [a.filename, a.contentType, a.disposition, a.size, a.related])).toEqual([
      ['notes.txt', 'text/plain', 'inline', 18, false],
    ]);
  });

  it('keeps a named first text part as the body (clients that name the body part)', async () => {
    const m = await parseMessage(
      multipart('mixed', [
        ['Content-Type: text/plain; name="body.txt"', 'The body'],
        ['Content-Type: application/pdf; name="a.pdf"\r\nContent-Transfer-Encoding: base64', 'JVBERg=='],
      ]),
    );
    expect(m.text).toBe('The body');
    expect(m.attachments.map((a) => a.filename)).toEqual(['a.pdf']);
  });

  it('keeps a named HTML alternative of the body as the html', async () => {
    const m = await parseMessage(
      multipart('mixed', [
        nested('alternative', [
          ['Content-Type: text/plain', 'Plain body'],
          ['Content-Type: text/html; name="body.html"', '<p>HTML body</p>'],
        ]),
        ['Content-Type: text/html; name="page.html"\r\nContent-Disposition: inline', '<p>A page</p>'],
      ]),
    );
    expect(m.text).toBe('Plain body');
    expect(m.html).toBe('<p>HTML body</p>');
    expect(m.attachments.map((a) => [a.filename, a.contentType])).toEqual([['page.html', 'text/html']]);
  });

  it('lists a text part with Content-Disposition: attachment, even the only one', async () => {
    const m = await parseMessage(
      multipart('mixed', [
        ['Content-Type: text/plain\r\nContent-Disposition: attachment; filename="a.txt"', 'x'],
      ]),
    );
    expect(m.text).toBeNull();
    expect(m.attachments.map((a) => [a.filename, a.size])).toEqual([['a.txt', 1]]);
  });

  it('joins unnamed text parts of a multipart/mixed in order with one line break', async () => {
    const m = await parseMessage(
      multipart('mixed', [
        ['Content-Type: text/plain', 'First'],
        ['Content-Type: image/gif; name="a.gif"\r\nContent-Transfer-Encoding: base64', 'R0lGODlh'],
        ['Content-Type: text/plain', 'Second'],
      ]),
    );
    expect(m.text).toBe('First\nSecond');
    expect(m.attachments.map((a) => [a.filename, a.size])).toEqual([['a.gif', 6]]);
  });
});

describe('attachment policy: inline images', () => {
  const image = (cid: string, disposition: string): [string, string] => [
    `Content-Type: image/png; name="${cid}.png"\r\nContent-Disposition: ${disposition}; filename="${cid}.png"\r\nContent-ID: <${cid}@x>\r\nContent-Transfer-Encoding: base64`,
    'iVBORw0KGgo=',
  ];

  it('marks only the images the HTML references as related; the others are listed', async () => {
    const m = await parseMessage(
      multipart('mixed', [
        nested('related', [
          ['Content-Type: text/html', '<img src="cid:logo@x">'],
          image('logo', 'inline'),
          image('unused', 'inline'),
        ]),
        image('photo', 'inline'),
      ]),
    );
    expect(m.attachments.map((a) => [a.filename, a.related, a.size])).toEqual([
      ['logo.png', true, 8],
      ['unused.png', false, 8],
      ['photo.png', false, 8],
    ]);
  });
});

describe('attachment policy: embedded messages', () => {
  const forwarded = (subject: string | null) =>
    multipart('mixed', [
      ['Content-Type: text/plain', 'See below'],
      [
        'Content-Type: message/rfc822',
        `From: c@example.com\r\n${subject === null ? '' : `Subject: ${subject}\r\n`}\r\nThe forwarded body`,
      ],
    ]);

  it('names an unnamed message/rfc822 after its decoded Subject, made safe as a filename', async () => {
    const m = await parseMessage(forwarded('=?utf-8?q?Caf=C3=A9_plans?= / Q3'));
    expect(m.attachments.map((a) => [a.filename, a.contentType])).toEqual([
      ['Café plans _ Q3.eml', 'message/rfc822'],
    ]);
    expect((await parseMessage(forwarded(null))).attachments[0]!.filename).toBe('message.eml');
  });

  it('reads at most 64 KiB of an embedded message for its name', () => {
    expect(embeddedMessageName(Buffer.from('Subject: Folded\r\n  subject\r\n\r\nbody'))).toBe(
      'Folded subject.eml',
    );
    expect(embeddedMessageName(Buffer.from('Subject: A\n\nSubject: B\n'))).toBe('A.eml');
    expect(embeddedMessageName(Buffer.alloc(0))).toBe('message.eml');
    const hostile = Buffer.from(`Subject: ${'x'.repeat(2_000_000)}`);
    const name = embeddedMessageName(hostile.subarray(0, 64 * 1024));
    expect(name.endsWith('.eml')).toBe(true);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
  });

  it('parses a huge embedded header block without a blank line, naming it within the bound', async () => {
    const m = await parseMessage(
      multipart('mixed', [
        ['Content-Type: text/plain', 'x'],
        [
          'Content-Type: message/rfc822',
          `Subject: big\r\n${'X-Filler: yyyyyyyyyyyyyyyy\r\n'.repeat(100_000)}`,
        ],
      ]),
    );
    expect(m.attachments.map((a) => a.filename)).toEqual(['big.eml']);
    expect(m.attachments[0]!.size).toBeGreaterThan(2_000_000);
  });
});
