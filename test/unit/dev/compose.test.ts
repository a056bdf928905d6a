import { describe, expect, it } from 'vitest';
import { composeMime, parseComposeRequest, sanitizeFilename } from '../../../lib/dev/compose.ts';
import { HttpError } from '../../../lib/dev/errors.ts';
import { parseMessage } from '../../../lib/message/index.ts';

const valid = {
  from: 'Ada Lovelace <ada@sender.test>',
  to: ['support@example.com'],
  subject: 'Printer',
  text: 'It is on fire.',
};

function refusal(body: unknown, maxRecipients = 100): string {
  try {
    parseComposeRequest(body, maxRecipients);
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(400);
    return (err as HttpError).message;
  }
  throw new Error('accepted');
}

describe('parseComposeRequest: a 400 naming the bad field', () => {
  it.each<[string, unknown, RegExp]>([
    ['not an object', [1], /JSON object/],
    ['unknown field', { ...valid, bcc: ['x@example.com'] }, /^bcc: unknown field/],
    ['from missing', { ...valid, from: undefined }, /^from: must be a string/],
    ['from not an address', { ...valid, from: 'ada' }, /^from: "ada" is not an address/],
    [
      'header injection in from',
      { ...valid, from: 'a@x.test\r\nBcc: y@x.test' },
      /^from: contains a control/,
    ],
    ['no recipient', { ...valid, to: [] }, /^to: give at least one recipient/],
    ['to not a list', { ...valid, to: 42 }, /^to: must be a list/],
    ['a bad recipient', { ...valid, to: ['ok@example.com', 'nope'] }, /^to\[1\]: "nope" is not an address/],
    ['a bad cc', { ...valid, cc: ['x y@example.com'] }, /^cc\[0\]:/],
    ['subject with a newline', { ...valid, subject: 'a\nBcc: x' }, /^subject: contains a control/],
    ['text not a string', { ...valid, text: 5 }, /^text: must be a string/],
    ['attachments not a list', { ...valid, attachments: {} }, /^attachments: must be a list/],
    [
      'too many attachments',
      { ...valid, attachments: Array.from({ length: 21 }, () => ({ filename: 'a', contentBase64: '' })) },
      /^attachments: at most 20/,
    ],
    [
      'attachment not base64',
      {
        ...valid,
        attachments: [{ filename: 'a.txt', contentType: 'text/plain', contentBase64: 'not base64!' }],
      },
      /^attachments\[0\]\.contentBase64: is not base64/,
    ],
    [
      'attachment content type',
      { ...valid, attachments: [{ filename: 'a', contentType: 'text/html\r\nX: y', contentBase64: '' }] },
      /^attachments\[0\]\.contentType: must be a media type/,
    ],
    [
      'attachment without filename',
      { ...valid, attachments: [{ contentBase64: 'aGk=' }] },
      /^attachments\[0\]\.filename: must be a string/,
    ],
  ])('%s', (_label, body, message) => {
    expect(refusal(body)).toMatch(message);
  });

  it('counts to and cc against the recipient limit', () => {
    expect(refusal({ ...valid, to: ['a@example.com'], cc: ['b@example.com'] }, 1)).toMatch(/^to: at most 1/);
  });

  it('accepts a display name, comma-separated recipients and base64 with line breaks', () => {
    const request = parseComposeRequest(
      {
        ...valid,
        to: 'a@example.com, b@example.com',
        attachments: [{ filename: 'hi.txt', contentType: 'text/plain', contentBase64: 'aGVs\r\nbG8=' }],
      },
      100,
    );
    expect(request.from).toEqual({ name: 'Ada Lovelace', address: 'ada@sender.test' });
    expect(request.to).toEqual(['a@example.com', 'b@example.com']);
    expect(request.attachments[0]?.content.toString()).toBe('hello');
  });
});

describe('sanitizeFilename', () => {
  it.each([
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\x\\report.pdf', 'report.pdf'],
    ['a"b\u0000c\r\n.txt', 'abc.txt'],
    ['...hidden', 'hidden'],
    ['', 'attachment'],
    ['/', 'attachment'],
    ['x'.repeat(500), 'x'.repeat(200)],
  ])('%j → %j', (given, wanted) => {
    expect(sanitizeFilename(given)).toBe(wanted);
  });
});

describe('composeMime', () => {
  it('builds a message that parses back with its fields and attachment', async () => {
    const request = parseComposeRequest(
      {
        ...valid,
        cc: ['cc@example.com'],
        html: '<p>It is <b>on fire</b>.</p>',
        attachments: [{ filename: '../photo.png', contentType: 'image/png', contentBase64: 'iVBORw0KGgo=' }],
      },
      100,
    );
    const parsed = await parseMessage(await composeMime(request));
    expect(parsed.from).toEqual({ address: 'ada@sender.test', name: 'Ada Lovelace' });
    expect(parsed.to.map((a) => a.address)).toEqual(['support@example.com']);
    expect(parsed.cc.map((a) => a.address)).toEqual(['cc@example.com']);
    expect(parsed.subject).toBe('Printer');
    expect(parsed.text?.trim()).toBe('It is on fire.');
    expect(parsed.html).toContain('<b>on fire</b>');
    expect(parsed.attachments.map((a) => [a.filename, a.contentType, a.size])).toEqual([
      ['photo.png', 'image/png', 8],
    ]);
  });
});
