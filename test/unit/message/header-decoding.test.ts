import { describe, expect, it } from 'vitest';
import { decodeEncodedWords } from '../../../lib/message/encoded-words.ts';
import { parseStructuredValue } from '../../../lib/message/header-params.ts';
import { parseMessageDate } from '../../../lib/message/message-date.ts';
import { parseMessageId, parseMessageIds } from '../../../lib/message/message-ids.ts';

describe('decodeEncodedWords', () => {
  it('decodes B and Q words and leaves plain text alone', () => {
    expect(decodeEncodedWords('plain').text).toBe('plain');
    expect(decodeEncodedWords('=?UTF-8?B?w6TDtsO8?=').text).toBe('äöü');
    expect(decodeEncodedWords('=?iso-8859-1?q?Gr=FC=DFe_aus_K=F6ln?=').text).toBe('Grüße aus Köln');
  });

  it('drops whitespace between adjacent encoded words but keeps it around plain text', () => {
    expect(decodeEncodedWords('=?utf-8?q?a?= =?utf-8?q?b?=').text).toBe('ab');
    expect(decodeEncodedWords('x =?utf-8?q?a?= y').text).toBe('x a y');
  });

  it('joins a multi-byte character split across two words', () => {
    // "€" is E2 82 AC in UTF-8; split after the first byte
    expect(decodeEncodedWords('=?utf-8?q?=E2?= =?utf-8?q?=82=AC?=').text).toBe('€');
  });

  it('decodes UTF-7 words (display text only)', () => {
    expect(decodeEncodedWords('=?utf-7?Q?Fr+APY-sche?=').text).toBe('Frösche');
  });

  it('reports an unknown charset and decodes as UTF-8', () => {
    const decoded = decodeEncodedWords('=?x-unknown?q?abc?=');
    expect(decoded).toEqual({ text: 'abc', unknownCharsets: ['x-unknown'] });
  });

  it('handles RFC 2231 language suffixes and raw 8-bit bytes inside a word', () => {
    expect(decodeEncodedWords('=?utf-8*en?q?hi?=').text).toBe('hi');
    expect(decodeEncodedWords('=?iso-8859-1?q?Fr\u00f6sche?=').text).toBe('Frösche');
  });
});

describe('parseMessageDate', () => {
  it.each([
    ['Tue, 07 May 2013 23:11:57 +0000', '2013-05-07T23:11:57.000Z'],
    ['7 May 2013 23:11:57 -0700 (PDT)', '2013-05-08T06:11:57.000Z'],
    ['Tue, 7 May 13 23:11 EST', '2013-05-08T04:11:00.000Z'],
    ['Tue, 07 May 2013 23:11:57 GMT', '2013-05-07T23:11:57.000Z'],
    ['Tue May  7 23:11:57 2013', '2013-05-07T23:11:57.000Z'],
    ['2013-05-07T23:11:57+02:00', '2013-05-07T21:11:57.000Z'],
    ['Tue, 07 May 2013 23:11:57', '2013-05-07T23:11:57.000Z'],
  ])('%s', (input, iso) => {
    expect(parseMessageDate(input)?.toISOString()).toBe(iso);
  });

  it.each([
    '',
    'yesterday',
    '1',
    '31 Feb 2020 10:00:00 +0000',
    '7 May 2013 25:00:00 +0000',
    '7 Foo 2013 10:00 +0000',
  ])('rejects %j', (input) => {
    expect(parseMessageDate(input)).toBeNull();
  });
});

describe('message ids', () => {
  it('keeps angle brackets and finds every id', () => {
    expect(parseMessageIds('<a@x> <b@y>\t<c@z>')).toEqual(['<a@x>', '<b@y>', '<c@z>']);
    expect(parseMessageIds('<a@x> (comment <no@id>)')).toEqual(['<a@x>']);
    expect(parseMessageIds('a@x b@y')).toEqual(['<a@x>', '<b@y>']);
    expect(parseMessageIds('')).toEqual([]);
  });

  it('adds brackets to a bare Message-ID', () => {
    expect(parseMessageId('<a@x>')).toBe('<a@x>');
    expect(parseMessageId('a@x')).toBe('<a@x>');
    expect(parseMessageId('  ')).toBeNull();
  });
});

describe('parseStructuredValue', () => {
  it('parses a value with quoted and plain parameters and comments', () => {
    const v = parseStructuredValue(' Multipart/Mixed; boundary="a;b \\"c\\"" (comment); charset=UTF-8');
    expect(v.value).toBe('multipart/mixed');
    expect(v.params.get('boundary')).toBe('a;b "c"');
    expect(v.params.get('charset')).toBe('UTF-8');
  });

  it('joins RFC 2231 continuations', () => {
    const v = parseStructuredValue("attachment; filename*0*=utf-8''a%20b; filename*1=c.txt");
    expect(v.params.get('filename')).toBe('a bc.txt');
  });
});
