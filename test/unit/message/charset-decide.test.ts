import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { decodeUtf7, decodeWindows1252 } from '../../../lib/message/charset.ts';
import {
  decideCharset,
  FallbackReport,
  isUtf8Chunks,
  passesAsUtf8,
} from '../../../lib/message/charset-decide.ts';
import { decodeEncodedWords, reencodeWordsAsUtf8 } from '../../../lib/message/encoded-words.ts';

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('decideCharset: raw header bytes (nothing declared)', () => {
  it('takes valid UTF-8 first', () => {
    expect(decideCharset(utf8('Heinz Müller'), null, 'header', ['iso-8859-1'])).toEqual({
      text: 'Heinz Müller',
      used: 'utf-8',
      fallback: false,
    });
  });

  it('reads Windows-1252 0x80-0x9F as its punctuation, not C1 controls', () => {
    const d = decideCharset(latin1('\x93quoted\x94 \x96 5\x80'), null, 'header', []);
    expect(d.text).toBe('\u201cquoted\u201d \u2013 5\u20ac');
  });

  it('decodes all 256 bytes of Windows-1252 (Latin-1 but 0x80-0x9F; the unassigned five as C1)', () => {
    const all = Uint8Array.from({ length: 256 }, (_, b) => b);
    const text = decodeWindows1252(all);
    expect(text).toHaveLength(256);
    expect(text.slice(0, 0x80)).toBe(Buffer.from(all.subarray(0, 0x80)).toString('latin1'));
    expect(text.slice(0xa0)).toBe(Buffer.from(all.subarray(0xa0)).toString('latin1'));
    expect(text.slice(0x80, 0x90)).toBe('€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f');
    expect(text.slice(0x90, 0xa0)).toBe('\u0090‘’“”•–—˜™š›œ\u009džŸ');
    expect(decodeWindows1252(all.subarray(0xa0, 0xa8))).toBe('\u00a0¡¢£¤¥¦§'); // a view, no high bytes
  });

  it('then the charset the message declares, when the bytes are valid in it', () => {
    const gb = Buffer.from([0xc4, 0xe3, 0xba, 0xc3]); // 你好 in GB2312, not valid UTF-8
    const d = decideCharset(gb, null, 'header', ['us-ascii', 'gb2312']);
    expect(d.text).toBe('你好');
    expect(d).toMatchObject({ used: 'gbk', fallback: true });
  });

  it('skips a declared charset the bytes are not valid in, then ends at Windows-1252', () => {
    // 0x80 0x80 is not valid Shift_JIS; Windows-1252 reads any byte
    const d = decideCharset(latin1('Fr\x80\x80sche'), null, 'header', ['shift_jis', 'utf-8']);
    expect(d).toMatchObject({ text: 'Fr€€sche', used: 'windows-1252', fallback: true });
  });

  it('keeps mostly-UTF-8 text as UTF-8 with the stray byte replaced', () => {
    const bytes = Buffer.concat([utf8('Юникод запрещен'), Buffer.from([0xd0])]);
    const d = decideCharset(bytes, null, 'header', []);
    expect(d.text).toBe('Юникод запрещен\ufffd');
    expect(d.used).toMatch(/^utf-8 \(1 invalid/);
  });
});

describe('decideCharset: encoded words and bodies', () => {
  it('trusts a word label while the bytes are valid in it', () => {
    expect(decideCharset(latin1('M\xfcller'), 'iso-8859-1', 'word', []).text).toBe('Müller');
    // UTF-8 bytes under a Latin-1 label stay Latin-1 in a word (the label is explicit)
    expect(decideCharset(utf8('Müller'), 'iso-8859-1', 'word', []).text).toBe('MÃ¼ller');
  });

  it('decodes Latin-1 bytes labelled UTF-8 by the fallback chain, not as U+FFFD', () => {
    expect(decideCharset(latin1('M\xfcller'), 'utf-8', 'word', [])).toMatchObject({
      text: 'Müller',
      used: 'windows-1252',
      fallback: true,
    });
    expect(decideCharset(latin1('\xe9t\xe9'), 'utf-8', 'body', ['utf-8', 'iso-8859-2']).text).toBe('été');
  });

  it('reads an unknown or US-ASCII label as "nothing declared"', () => {
    expect(decideCharset(utf8('Grüße'), 'x-unknown', 'word', [])).toMatchObject({
      text: 'Grüße',
      used: 'utf-8',
      fallback: true,
    });
    expect(decideCharset(utf8('Hello'), 'us-ascii', 'body', [])).toMatchObject({ fallback: false });
    expect(decideCharset(utf8('Grüße'), 'us-ascii', 'body', []).text).toBe('Grüße');
    expect(decideCharset(latin1('Gr\xfc\xdfe'), 'us-ascii', 'body', []).text).toBe('Grüße');
  });

  it('prefers valid UTF-8 over a declared single-byte charset in a body only', () => {
    expect(decideCharset(utf8('Grüße'), 'iso-8859-1', 'body', [])).toEqual({
      text: 'Grüße',
      used: 'utf-8',
      fallback: true,
    });
    // plain ASCII is no evidence: the declared charset stays, no fallback
    expect(decideCharset(utf8('Hello'), 'iso-8859-1', 'body', [])).toMatchObject({ fallback: false });
  });

  it('keeps a declared multi-byte charset when the bytes are valid in it', () => {
    const sjis = Buffer.from([0x82, 0xb1, 0x82, 0xf1]); // こん
    expect(decideCharset(sjis, 'shift_jis', 'body', [])).toMatchObject({ text: 'こん', fallback: false });
    const jis = latin1('\x1b$B$3$s\x1b(B');
    expect(decideCharset(jis, 'iso-2022-jp', 'body', []).text).toBe('こん');
  });

  it('decodes UTF-7 (all its labels)', () => {
    for (const label of ['utf-7', 'UTF7', 'unicode-1-1-utf-7', 'csUnicode11UTF7']) {
      expect(decideCharset(latin1('Fr+APY-sche 1+-1'), label, 'body', []).text).toBe('Frösche 1+1');
    }
    expect(decodeUtf7(latin1('+2D3eAA-'))).toBe('😀'); // a surrogate pair in one run
  });
});

describe('FallbackReport', () => {
  it('lists a few fallbacks, then a count', () => {
    const report = new FallbackReport();
    for (let i = 0; i < 10; i++) report.add(`field${i}`, i === 0 ? null : 'utf-8', 'windows-1252');
    const problems = report.problems();
    expect(problems).toHaveLength(4);
    expect(problems[0]).toBe('charset-fallback: field0: declared none, decoded as windows-1252');
    expect(problems[1]).toBe('charset-fallback: field1: declared "utf-8", decoded as windows-1252');
    expect(problems[3]).toBe('charset-fallback: 7 more field(s) or part(s) decoded by fallback');
  });
});

describe('encoded words with the charset decision', () => {
  it('decodes UTF-7 words and words whose bytes do not fit their label', () => {
    const report = new FallbackReport();
    const ctx = { charsets: ['iso-8859-1'], report };
    expect(decodeEncodedWords('=?utf-7?Q?Die_Fr+APY-sche?=', ctx, 'subject').text).toBe('Die Frösche');
    expect(decodeEncodedWords('=?utf-8?Q?M=FCller?=', ctx, 'from').text).toBe('Müller');
    expect(report.problems()).toEqual(['charset-fallback: from: declared "utf-8", decoded as windows-1252']);
  });

  it('re-encodes words as UTF-8 words for the address parser, leaving the rest alone', () => {
    const value = '=?utf-7?B?SitBUHctcmdlbiBTY2htK0FQdy1yZ2Vu?= <j@example.com>, b@example.com';
    const out = reencodeWordsAsUtf8(value);
    expect(out).toBe(
      `=?utf-8?B?${utf8('Jürgen Schmürgen').toString('base64')}?= <j@example.com>, b@example.com`,
    );
    expect(reencodeWordsAsUtf8('plain <a@b.c>')).toBe('plain <a@b.c>');
  });
});

describe('passesAsUtf8 over chunks (a part as it was decoded, never joined)', () => {
  /** Every way of cutting `bytes` in two and three pieces, and in single bytes. */
  function cuts(bytes: Buffer): Buffer[][] {
    const out: Buffer[][] = [[...bytes].map((b) => Buffer.from([b]))];
    for (let i = 0; i <= bytes.length; i++) {
      out.push([bytes.subarray(0, i), bytes.subarray(i)]);
      for (let j = i; j <= bytes.length; j++) {
        out.push([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]);
      }
    }
    return out;
  }

  it('answers as for the joined bytes, however multi-byte sequences are cut', () => {
    const samples = [
      utf8('plain ascii'),
      utf8('caf\u00e9 \u20ac \u{1f600} \u4e2d'),
      utf8('\u{1f600}\u{1f601}'),
      Buffer.concat([utf8('ok \u00e9'), Buffer.from([0xc3])]), // cut at the very end
      Buffer.from([0xe2, 0x82, 0x41]), // a sequence broken by ASCII
      Buffer.from([0x80, 0x41]), // a stray continuation byte
      Buffer.from([0xc0, 0x80]), // overlong
      Buffer.from([0xed, 0xa0, 0x80]), // a surrogate
      Buffer.from([0xf4, 0x90, 0x80, 0x80]), // past U+10FFFF
      Buffer.from([0xff, 0x41, 0x42]),
      latin1('caf\u00e9'),
      Buffer.alloc(0),
    ];
    for (const bytes of samples) {
      for (const chunks of cuts(bytes)) {
        expect(isUtf8Chunks(chunks), `${bytes.toString('hex')} cut ${chunks.map((c) => c.length)}`).toBe(
          isUtf8(bytes),
        );
      }
    }
  });

  it('agrees with the joined check on random bytes cut at random', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pieces = ['a', '\u00e9', '\u20ac', '\u{1f600}'].map(utf8);
    for (let round = 0; round < 2000; round++) {
      const parts: Buffer[] = [];
      for (let n = Math.floor(random() * 12); n > 0; n--) {
        parts.push(
          random() < 0.05 ? Buffer.from([Math.floor(random() * 256)]) : pieces[Math.floor(random() * 4)]!,
        );
      }
      const bytes = Buffer.concat(parts);
      const chunks: Buffer[] = [];
      for (let at = 0; at < bytes.length; ) {
        const next = Math.min(bytes.length, at + Math.floor(random() * 5));
        chunks.push(bytes.subarray(at, next));
        at = next;
      }
      expect(isUtf8Chunks(chunks)).toBe(isUtf8(bytes));
    }
  });

  it('checks each chunk against the declared charset as for the joined bytes', () => {
    const chunks = [utf8('caf'), Buffer.from([0xc3]), Buffer.from([0xa9])];
    expect(passesAsUtf8(chunks, null)).toBe(true);
    expect(passesAsUtf8(chunks, 'utf-8')).toBe(true);
    expect(passesAsUtf8(chunks, 'iso-8859-1')).toBe(false); // not ASCII: decided, not passed
    expect(passesAsUtf8([utf8('ab'), utf8('cd')], 'iso-8859-1')).toBe(true);
    expect(passesAsUtf8([utf8('ab')], 'utf-7')).toBe(false);
    expect(passesAsUtf8([utf8('ab'), Buffer.from([0xc3])], null)).toBe(false);
  });
});

describe('hostile input stays bounded', () => {
  it('decides a large run of mixed bytes in one pass each', () => {
    const big = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = i % 3 === 0 ? 0xc3 : i % 3 === 1 ? 0x28 : 0xff;
    const d = decideCharset(big, 'utf-8', 'body', ['shift_jis', 'gb2312', 'big5', 'euc-kr', 'koi8-r']);
    expect(d.used).toBe('koi8-r');
    expect(d.text.length).toBe(big.length);
  });

  it('decodes a long UTF-7 run and a run of plus signs', () => {
    const runs = latin1(`+${'AGEAYQBh'.repeat(150_000)}- ${'+-'.repeat(100_000)}`);
    const text = decodeUtf7(runs);
    expect(text.slice(0, 3)).toBe('aaa');
    expect(text.length).toBe(450_000 + 1 + 100_000);
    expect(text.endsWith('+'.repeat(10))).toBe(true);
  });
});
