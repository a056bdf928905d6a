import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../lib/message/index.ts';

/** Joins lines with CRLF, the way messages travel over SMTP. */
function eml(...lines: string[]): Buffer {
  return Buffer.from(lines.join('\r\n'));
}

function codes(problems: string[]): string[] {
  return problems.map((p) => p.slice(0, p.indexOf(':')));
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

describe('parseMessage: headers and addresses', () => {
  const raw = eml(
    'Received: from a.example by b.example; Tue, 7 May 2013 23:11:57 +0000',
    'Received: from c.example by a.example; Tue, 7 May 2013 23:11:50 +0000',
    'Message-ID: <abc.123@mail.example.com>',
    'Date: Tue, 07 May 2013 23:11:57 +0200',
    'From: =?utf-8?q?J=C3=B6rg_M=C3=BCller?= <joerg@example.de>',
    'To: "Smith, Ann" <ann@example.com>, bob@example.com',
    'Cc: Team: carl@example.com, "Dee" <dee@example.com>;',
    'Reply-To: replies@example.com',
    'In-Reply-To: <parent@example.com>',
    'References: <root@example.com>',
    ' <parent@example.com>',
    'Subject: =?utf-8?b?SGVsbG8g4pyTIHdvcmxk?=',
    'X-Folded: first part',
    '\tsecond part',
    'X-Raw-Utf8: Grüße',
    '',
    'Hello there.',
    '',
  );

  it('extracts the top-level fields', async () => {
    const m = await parseMessage(raw);
    expect(m.messageId).toBe('<abc.123@mail.example.com>');
    expect(m.date).toBe('2013-05-07T21:11:57.000Z');
    expect(m.subject).toBe('Hello ✓ world');
    expect(m.from).toEqual({ address: 'joerg@example.de', name: 'Jörg Müller' });
    expect(m.to).toEqual([
      { address: 'ann@example.com', name: 'Smith, Ann' },
      { address: 'bob@example.com', name: '' },
    ]);
    expect(m.cc).toEqual([
      { address: 'carl@example.com', name: '' },
      { address: 'dee@example.com', name: 'Dee' },
    ]);
    expect(m.replyTo).toEqual([{ address: 'replies@example.com', name: '' }]);
    expect(m.inReplyTo).toBe('<parent@example.com>');
    expect(m.references).toEqual(['<root@example.com>', '<parent@example.com>']);
    expect(m.text).toBe('Hello there.\n');
    expect(m.html).toBeNull();
    expect(m.attachments).toEqual([]);
    expect(m.problems).toEqual([]);
  });

  it('lists every header field in order, lower-cased, unfolded and decoded', async () => {
    const m = await parseMessage(raw);
    expect(m.headers.map((h) => h.key)).toEqual([
      'received',
      'received',
      'message-id',
      'date',
      'from',
      'to',
      'cc',
      'reply-to',
      'in-reply-to',
      'references',
      'subject',
      'x-folded',
      'x-raw-utf8',
    ]);
    const value = (key: string) => m.headers.find((h) => h.key === key)?.value;
    expect(value('x-folded')).toBe('first part\tsecond part');
    expect(value('subject')).toBe('Hello ✓ world');
    expect(value('from')).toBe('Jörg Müller <joerg@example.de>');
    expect(value('x-raw-utf8')).toBe('Grüße');
    expect(value('references')).toBe('<root@example.com> <parent@example.com>');
  });

  it('adds angle brackets to a Message-ID written without them', async () => {
    const m = await parseMessage(eml('From: a@example.com', 'Message-ID: bare@example.com', '', 'x'));
    expect(m.messageId).toBe('<bare@example.com>');
  });

  it('gives the same thread id to a root message and a reply that references it', async () => {
    const root = await parseMessage(eml('From: a@example.com', 'Message-ID: <root@example.com>', '', 'x'));
    const reply = await parseMessage(
      eml('From: b@example.com', 'Message-ID: <r1@example.com>', 'References: <root@example.com>', '', 'y'),
    );
    expect(reply.thread.id).toBe(root.thread.id);
    expect(root.thread.id).toMatch(/^[0-9a-f]{24}$/);
  });
});

describe('parseMessage: bodies and attachments', () => {
  it('takes text and html from multipart/alternative', async () => {
    const m = await parseMessage(
      eml(
        'From: a@example.com',
        'Content-Type: multipart/alternative; boundary="alt"',
        '',
        '--alt',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'Plain body',
        '--alt',
        'Content-Type: text/html; charset=utf-8',
        '',
        '<p>HTML body</p>',
        '--alt--',
        '',
      ),
    );
    expect(m.text).toBe('Plain body');
    expect(m.html).toBe('<p>HTML body</p>');
    expect(m.reply.text).toBe('Plain body');
  });

  it('keeps text null and the original html for an HTML-only message, and extracts the reply from it', async () => {
    const html =
      '<div>Sounds good!</div><div class="gmail_quote">On Mon, Jan 6, 2020 at 9:00 AM Ann wrote:<blockquote>Lunch?</blockquote></div>';
    const m = await parseMessage(
      eml('From: a@example.com', 'Content-Type: text/html; charset=utf-8', '', html),
    );
    expect(m.text).toBeNull();
    expect(m.html).toBe(html);
    expect(m.reply.text).toBe('Sounds good!');
  });

  it('decodes quoted-printable text in its declared charset', async () => {
    const m = await parseMessage(
      eml(
        'From: a@example.com',
        'Content-Type: text/plain; charset=iso-8859-1',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        'Gr=FC=DFe aus K=F6ln',
      ),
    );
    expect(m.text).toBe('Grüße aus Köln');
  });

  it('reports attachments with decoded size, SHA-256, filename, content id and disposition', async () => {
    const pdf = Buffer.from('%PDF-1.4 not really a pdf\n'.repeat(40));
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
    const m = await parseMessage(
      eml(
        'From: a@example.com',
        'Content-Type: multipart/mixed; boundary="mix"',
        '',
        '--mix',
        'Content-Type: text/plain',
        '',
        'See attached.',
        '--mix',
        'Content-Type: application/pdf; name="report.pdf"',
        "Content-Disposition: attachment; filename*=utf-8''r%C3%A9sum%C3%A9.pdf",
        'Content-Transfer-Encoding: base64',
        '',
        ...(pdf.toString('base64').match(/.{1,76}/g) ?? []),
        '--mix',
        'Content-Type: image/png',
        'Content-ID: <logo@example.com>',
        'Content-Disposition: inline',
        'Content-Transfer-Encoding: base64',
        '',
        png.toString('base64'),
        '--mix',
        'Content-Type: application/octet-stream',
        '',
        'raw bytes',
        '--mix--',
        '',
      ),
    );
    expect(m.text).toBe('See attached.');
    expect(m.attachments).toEqual([
      {
        filename: 'résumé.pdf',
        contentType: 'application/pdf',
        size: pdf.length,
        sha256: sha256(pdf),
        contentId: null,
        disposition: 'attachment',
        url: null,
        stored: false,
        related: false,
      },
      {
        filename: null,
        contentType: 'image/png',
        size: png.length,
        sha256: sha256(png),
        contentId: '<logo@example.com>',
        disposition: 'inline',
        url: null,
        stored: false,
        related: false,
      },
      {
        filename: null,
        contentType: 'application/octet-stream',
        size: 'raw bytes'.length,
        sha256: sha256('raw bytes'),
        contentId: null,
        disposition: null,
        url: null,
        stored: false,
        related: false,
      },
    ]);
  });
});

describe('parseMessage: malformed input', () => {
  it('reports missing From, Date and Message-ID', async () => {
    const m = await parseMessage(eml('Subject: hi', '', 'body'));
    expect(m.from).toBeNull();
    expect(m.date).toBeNull();
    expect(m.messageId).toBeNull();
    expect(codes(m.problems)).toEqual(
      expect.arrayContaining(['missing-from', 'missing-date', 'missing-message-id']),
    );
  });

  it('reports an unparseable date and leaves date null', async () => {
    const m = await parseMessage(eml('From: a@example.com', 'Date: sometime last week', '', 'x'));
    expect(m.date).toBeNull();
    expect(m.problems).toContain('invalid-date: the Date header "sometime last week" could not be parsed');
  });

  it('parses obsolete date forms', async () => {
    const m = await parseMessage(eml('From: a@example.com', 'Date: 7 May 13 23:11 EST', '', 'x'));
    expect(m.date).toBe('2013-05-08T04:11:00.000Z');
  });

  it('reports a From header without a valid address', async () => {
    const m = await parseMessage(eml('From: Just A Name', '', 'x'));
    expect(codes(m.problems)).toContain('invalid-from');
    expect(m.from).toEqual({ address: '', name: 'Just A Name' });
  });

  it('reports a header section that never ends', async () => {
    const m = await parseMessage(Buffer.from('From: a@example.com\r\nSubject: cut off'));
    expect(m.subject).toBe('cut off');
    expect(codes(m.problems)).toContain('header-unterminated');
  });

  it('reports lines in the header section that are not fields', async () => {
    const m = await parseMessage(eml('From: a@example.com', 'this is not a header', 'Subject: s', '', 'x'));
    expect(codes(m.problems)).toContain('header-invalid-line');
    expect(m.subject).toBe('s');
  });

  it('reports bare LF line endings and NUL bytes', async () => {
    const lf = await parseMessage(Buffer.from('From: a@example.com\nSubject: lf\n\nbody\n'));
    expect(lf.problems).toContain('bare-lf: all 4 lines end in LF without CR');
    expect(lf.subject).toBe('lf');
    const mixed = await parseMessage(Buffer.from('From: a@example.com\r\nSubject: mixed\n\r\nbo\0dy\r\n'));
    expect(codes(mixed.problems)).toEqual(expect.arrayContaining(['bare-lf', 'nul-bytes']));
  });

  it('reports unknown charsets in bodies and encoded words', async () => {
    const m = await parseMessage(
      eml(
        'From: a@example.com',
        'Subject: =?x-klingon?q?Qapla=27?=',
        'Content-Type: text/plain; charset=x-klingon',
        '',
        'x',
      ),
    );
    expect(m.subject).toBe("Qapla'");
    expect(m.problems.filter((p) => p.startsWith('charset-unknown:'))).toHaveLength(2);
  });

  it('reports duplicated singleton headers and uses the first', async () => {
    const m = await parseMessage(eml('From: a@example.com', 'From: b@example.com', '', 'x'));
    expect(m.from?.address).toBe('a@example.com');
    expect(codes(m.problems)).toContain('header-duplicated');
  });

  it('reports a multipart without a closing boundary', async () => {
    const m = await parseMessage(
      eml('From: a@example.com', 'Content-Type: multipart/mixed; boundary=b', '', '--b', '', 'part one', ''),
    );
    expect(m.text).toBe('part one\n');
    expect(codes(m.problems)).toContain('mime-unterminated');
  });

  it('reports an empty message', async () => {
    const m = await parseMessage(Buffer.alloc(0));
    expect(m.problems).toEqual(['empty-message: the message has no content']);
    expect(m.reply).toEqual({ text: '', signature: null });
  });

  it('keeps an inline message/rfc822 part as an attachment', async () => {
    const inner = 'From: inner@example.com\r\nSubject: inner\r\n\r\nforwarded body\r\n';
    const m = await parseMessage(
      eml(
        'From: a@example.com',
        'Content-Type: multipart/mixed; boundary=x',
        '',
        '--x',
        '',
        'See below.',
        '--x',
        'Content-Type: message/rfc822',
        'Content-Disposition: inline',
        '',
        inner.slice(0, -2),
        '--x--',
        '',
      ),
    );
    expect(m.text).toBe('See below.');
    expect(m.attachments).toHaveLength(1);
    expect(m.attachments[0]).toMatchObject({
      contentType: 'message/rfc822',
      size: inner.length - 2,
      sha256: sha256(inner.slice(0, -2)),
    });
  });

  it('never throws, whatever the input', async () => {
    const inputs = [
      Buffer.alloc(0),
      Buffer.from('\r\n\r\n'),
      Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x0a, 0x0d]),
      Buffer.from('From: <<<@@@>>>\r\nContent-Type: multipart/mixed; boundary=""\r\n\r\n--\r\n--\r\n'),
      Buffer.from(
        'Content-Type: multipart/mixed; boundary="a"\r\n\r\n--a\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n--a--',
      ),
      Buffer.from('=?utf-8?b?@@@?= =?x?q?=ZZ?=: value\r\nSubject: =?utf-8?q?=C3?=\r\n\r\n'),
    ];
    for (const input of inputs) {
      const m = await parseMessage(input);
      expect(Array.isArray(m.problems)).toBe(true);
      expect(typeof m.thread.id).toBe('string');
    }
  });
});

describe('parseMessage: limits', () => {
  function nested(levels: number): Buffer {
    const lines = [
      'From: deep@example.com',
      'Subject: deep',
      'Content-Type: multipart/mixed; boundary="b0"',
      '',
    ];
    for (let i = 1; i <= levels; i++)
      lines.push(`--b${i - 1}`, `Content-Type: multipart/mixed; boundary="b${i}"`, '');
    lines.push(`--b${levels}`, 'Content-Type: text/plain', '', 'innermost');
    for (let i = levels; i >= 0; i--) lines.push(`--b${i}--`);
    return eml(...lines, '');
  }

  it('stops at the nesting limit (100 levels of multipart)', async () => {
    const m = await parseMessage(nested(100));
    expect(m.subject).toBe('deep');
    expect(m.from?.address).toBe('deep@example.com');
    expect(m.problems.some((p) => p.startsWith('mime-depth-exceeded: nesting deeper than 32 levels'))).toBe(
      true,
    );
  });

  it('parses the same message fully within a higher depth limit', async () => {
    const m = await parseMessage(nested(40), { maxDepth: 64 });
    expect(codes(m.problems)).not.toContain('mime-depth-exceeded');
    expect(m.text).toBe('innermost');
  });

  it('stops at the parts limit and keeps the parts before it', async () => {
    const lines = ['From: a@example.com', 'Content-Type: multipart/mixed; boundary=x', ''];
    for (let i = 0; i < 12; i++) lines.push('--x', 'Content-Type: text/plain', '', `part ${i}`);
    const m = await parseMessage(eml(...lines, '--x--', ''), { maxParts: 5 });
    expect(m.problems.some((p) => p.startsWith('mime-parts-exceeded: more than 5 MIME parts'))).toBe(true);
    expect(m.text).toBe('part 0\npart 1\npart 2\npart 3');
  });

  it('bounds a 2 MB header block and still finds the essential fields after it', async () => {
    const raw = Buffer.from(
      `From: a@example.com\r\nX-Junk: ${'j'.repeat(2 * 1024 * 1024)}\r\nSubject: after the junk\r\n\r\nbody\r\n`,
    );
    const m = await parseMessage(raw);
    expect(m.problems.some((p) => p.startsWith('header-too-large: the header section is'))).toBe(true);
    expect(m.subject).toBe('after the junk');
    expect(m.text).toBe('body\n');
    expect(m.headers.map((h) => h.key)).toEqual(['from', 'subject']);
  });

  it('bounds the number of header fields', async () => {
    const lines = ['From: a@example.com'];
    for (let i = 0; i < 30; i++) lines.push(`X-Count: ${i}`);
    const m = await parseMessage(eml(...lines, 'Subject: late', '', 'body'), { maxHeaders: 10 });
    expect(codes(m.problems)).toContain('too-many-headers');
    expect(m.headers).toHaveLength(11);
    expect(m.subject).toBe('late');
  });

  it('stops before a MIME part whose header is over the limit', async () => {
    const lines = [
      'From: a@example.com',
      'Content-Type: multipart/mixed; boundary=x',
      '',
      '--x',
      '',
      'first',
    ];
    lines.push('--x');
    for (let i = 0; i < 50; i++) lines.push(`X-H: ${i}`);
    lines.push('', 'second', '--x--', '');
    const m = await parseMessage(eml(...lines), { maxHeaders: 20 });
    expect(codes(m.problems)).toContain('mime-too-many-headers');
    expect(m.text).toBe('first');
  });

  it('stops after a million lines', async () => {
    const m = await parseMessage(Buffer.from(`From: a@example.com\r\n\r\n${'\r\n'.repeat(1_100_000)}`));
    expect(codes(m.problems)).toContain('too-many-lines');
  });
});
