import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../../lib/message/index.ts';

/** Joins header and body lines with CRLF; each piece is a string (UTF-8) or raw bytes. */
function eml(...lines: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [];
  lines.forEach((line, i) => {
    if (i > 0) parts.push(Buffer.from('\r\n'));
    parts.push(typeof line === 'string' ? Buffer.from(line, 'utf8') : line);
  });
  return Buffer.concat(parts);
}
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
const fallbacks = (problems: string[]): string[] => problems.filter((p) => p.startsWith('charset-fallback:'));

describe('charsets as real clients send them', () => {
  it('Outlook/Exchange UTF-7: subject, recipient name and quoted-printable body', async () => {
    const m = await parseMessage(
      eml(
        'From: "Doug" <doug@example.com>',
        'To: =?utf-7?Q?Heinz_M+APw-ller?= <mueller@example.com>',
        'Subject: =?unicode-1-1-utf-7?Q?Die_Fr+APY-sche?=',
        'Content-Type: text/plain; charset="utf-7"',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        'Die Fr+APY-sche sa+AN8-en am Ufer+ACE- 1+-1=3D2',
      ),
    );
    expect(m.subject).toBe('Die Frösche');
    expect(m.to).toEqual([{ address: 'mueller@example.com', name: 'Heinz Müller' }]);
    expect(m.text).toBe('Die Frösche saßen am Ufer! 1+1=2');
    expect(m.problems.filter((p) => p.startsWith('charset-'))).toEqual([]);
  });

  it('raw UTF-8 Subject and From from a misconfigured MTA', async () => {
    const m = await parseMessage(
      eml(
        'From: Heinz Müller <heinz@example.de>',
        'Subject: Grüße aus Köln',
        'Content-Type: text/plain; charset=iso-8859-1',
        '',
        latin1('Sch\xf6ne Gr\xfc\xdfe'),
      ),
    );
    expect(m.from).toEqual({ address: 'heinz@example.de', name: 'Heinz Müller' });
    expect(m.subject).toBe('Grüße aus Köln');
    expect(m.text).toBe('Schöne Grüße');
    expect(fallbacks(m.problems)).toEqual([]);
  });

  it('raw Latin-1 headers take the charset the message declares', async () => {
    const m = await parseMessage(
      eml(
        latin1('From: Zden\xeck <z@example.cz>'),
        latin1('Subject: P\xf8\xedli\xb9 \xbelu\xbbou\xe8k\xfd k\xf9\xf2'),
        'Content-Type: text/plain; charset=iso-8859-2',
        '',
        'x',
      ),
    );
    expect(m.subject).toBe('Příliš žluťoučký kůň');
    expect(m.from?.name).toBe('Zdeněk');
    expect(fallbacks(m.problems)).toEqual([
      'charset-fallback: from: declared none, decoded as iso-8859-2',
      'charset-fallback: subject: declared none, decoded as iso-8859-2',
    ]);
  });

  it('a Latin-1 body declared as UTF-8 (quoted-printable and 8bit)', async () => {
    for (const [cte, body] of [
      ['quoted-printable', latin1('Caf=E9 cr=E8me, 5 =80')],
      ['8bit', latin1('Caf\xe9 cr\xe8me, 5 \x80')],
    ] as const) {
      const m = await parseMessage(
        eml(
          'From: a@example.com',
          'Content-Type: text/plain; charset=utf-8',
          `Content-Transfer-Encoding: ${cte}`,
          '',
          body,
        ),
      );
      expect(m.text).toBe('Café crème, 5 €');
      expect(fallbacks(m.problems)).toEqual([
        'charset-fallback: body part 1 (text/plain): declared "utf-8", decoded as windows-1252',
      ]);
    }
  });

  it('a UTF-8 body declared as ISO-8859-1, and one with no charset at all', async () => {
    const declared = await parseMessage(
      eml(
        'From: a@example.com',
        'Content-Type: text/html; charset=ISO-8859-1',
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from('<p>Grüße – Jürgen</p>').toString('base64'),
      ),
    );
    expect(declared.html).toBe('<p>Grüße – Jürgen</p>');
    expect(fallbacks(declared.problems)).toEqual([
      'charset-fallback: body part 1 (text/html): declared "ISO-8859-1", decoded as utf-8',
    ]);
    const missing = await parseMessage(eml('From: a@example.com', 'Subject: s', '', 'Grüße'));
    expect(missing.text).toBe('Grüße');
    expect(fallbacks(missing.problems)).toEqual([]);
  });

  it('keeps a correctly declared charset (quoted-printable ISO-8859-1, Shift_JIS, ISO-2022-JP)', async () => {
    const qp = await parseMessage(
      eml(
        'From: a@example.com',
        'Content-Type: text/plain; charset=iso-8859-1',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        'Gr=FC=DFe',
      ),
    );
    expect(qp.text).toBe('Grüße');
    const sjis = await parseMessage(
      eml(
        'From: a@example.com',
        'Content-Type: text/plain; charset=shift_jis',
        'Content-Transfer-Encoding: 8bit',
        '',
        Buffer.from([0x82, 0xb1, 0x82, 0xf1, 0x82, 0xc9, 0x82, 0xbf, 0x82, 0xcd]),
      ),
    );
    expect(sjis.text).toBe('こんにちは');
    const jis = await parseMessage(
      eml('From: a@example.com', 'Content-Type: text/plain; charset=iso-2022-jp', '', '\x1b$B$3$s\x1b(B'),
    );
    expect(jis.text).toBe('こん');
    expect([...fallbacks(qp.problems), ...fallbacks(sjis.problems), ...fallbacks(jis.problems)]).toEqual([]);
  });

  it('decides each text part of a multipart on its own, with the others as fallbacks', async () => {
    const m = await parseMessage(
      eml(
        'From: a@example.com',
        'Content-Type: multipart/alternative; boundary=b',
        '',
        '--b',
        'Content-Type: text/plain; charset=us-ascii',
        '',
        latin1('Z\xb9vodn\xed'),
        '--b',
        'Content-Type: text/html; charset=iso-8859-2',
        '',
        latin1('<p>Z\xb9vodn\xed</p>'),
        '--b--',
      ),
    );
    expect(m.text).toBe('Zšvodní');
    expect(m.html).toBe('<p>Zšvodní</p>');
    expect(fallbacks(m.problems)).toEqual([
      'charset-fallback: body part 1 (text/plain): declared "us-ascii", decoded as iso-8859-2',
    ]);
  });

  it('encoded words with a wrong or unknown charset', async () => {
    const m = await parseMessage(
      eml(
        'From: =?x-unknown?Q?J=C3=B6rg?= <j@example.com>',
        'Subject: =?utf-8?Q?Caf=E9?= =?us-ascii?Q?M=C3=BCller?=',
        '',
        'x',
      ),
    );
    expect(m.from?.name).toBe('Jörg');
    expect(m.subject).toBe('CaféMüller');
    expect(fallbacks(m.problems)).toEqual([
      'charset-fallback: from: declared "x-unknown", decoded as utf-8',
      'charset-fallback: subject: declared "utf-8", decoded as windows-1252',
      'charset-fallback: subject: declared "us-ascii", decoded as utf-8',
    ]);
  });

  it('bounds the fallback entries: a few, then a count', async () => {
    const fields = Array.from({ length: 12 }, (_, i) => latin1(`X-Field-${i}: caf\xe9`));
    const m = await parseMessage(eml('From: a@example.com', ...fields, '', 'x'));
    expect(fallbacks(m.problems)).toEqual([
      'charset-fallback: x-field-0: declared none, decoded as windows-1252',
      'charset-fallback: x-field-1: declared none, decoded as windows-1252',
      'charset-fallback: x-field-2: declared none, decoded as windows-1252',
      'charset-fallback: 9 more field(s) or part(s) decoded by fallback',
    ]);
    expect(m.headers.find((h) => h.key === 'x-field-11')?.value).toBe('café');
  });

  it('a large hostile body of invalid bytes is decided without U+FFFD and in full', async () => {
    const bytes = Buffer.alloc(3 * 1024 * 1024, latin1('\xc3(\xff '));
    const m = await parseMessage(
      eml('From: a@example.com', 'Content-Type: text/plain; charset=utf-8', '', bytes),
    );
    expect(m.text?.length).toBe(bytes.length);
    expect(m.text?.includes('\ufffd')).toBe(false);
    expect(m.text?.startsWith('Ã(ÿ ')).toBe(true);
  });
});

describe('charsets only iconv-lite knows', () => {
  it('leaves a DOS code page part to mailparser (cp850)', async () => {
    const m = await parseMessage(
      eml('From: a@example.com', 'Content-Type: text/plain; charset=cp850', '', Buffer.from([0x81, 0x82])),
    );
    expect(m.text).toBe('üé');
  });
});
