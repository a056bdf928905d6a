import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { crc16, decodeBinHex } from '../../../lib/message/binhex.ts';
import { contentTypeOf } from '../../../lib/message/legacy-types.ts';
import { readTnef } from '../../../lib/message/tnef.ts';
import { decodeUuLine, scanUuBlocks, withoutBlocks } from '../../../lib/message/uuencode.ts';
import { binhex, tnef, uuencode } from './legacy-fixtures.ts';

describe('uuencode', () => {
  const data = randomBytes(1000);

  it('decodes a block with either zero character and removes it from the text', () => {
    for (const zero of ['`', ' '] as const) {
      const text = `Hello,\nhere it is:\n\n${uuencode('report.bin', data, { zero })}\n\nBye\n`;
      const scan = scanUuBlocks(text);
      expect(scan.problems).toEqual([]);
      expect(scan.blocks).toHaveLength(1);
      expect(scan.blocks[0]!.filename).toBe('report.bin');
      expect(scan.blocks[0]!.data.equals(data)).toBe(true);
      expect(withoutBlocks(text, scan.blocks)).toBe('Hello,\nhere it is:\n\n\nBye\n');
    }
  });

  it('tolerates stripped trailing spaces, CRLF lines and a trailing checksum character', () => {
    const out = Buffer.alloc(64);
    // "Cat" is "#0V%T"; with the last group's spaces stripped a line still decodes to its length
    expect(decodeUuLine('#0V%T', out, 0)).toBe(3);
    expect(out.subarray(0, 3).toString()).toBe('Cat');
    expect(decodeUuLine('#0V%TX', out, 0)).toBe(3); // checksum character ignored
    expect(decodeUuLine('$0V%T', out, 0)).toBe(4); // 4 bytes: the missing group reads as zeros
    expect(out.subarray(0, 4)).toEqual(Buffer.from('Cat\0'));
    expect(decodeUuLine('#cat', out, 0)).toBe(-1); // lower case is not uuencode
    const crlf = `${uuencode('a.txt', Buffer.from('hello world'))}\n`.replace(/\n/g, '\r\n');
    expect(scanUuBlocks(crlf).blocks[0]!.data.toString()).toBe('hello world');
  });

  it('reads begin-base64 blocks and blocks without a name', () => {
    const text = `x\nbegin-base64 644 b.txt\n${Buffer.from('base64 inside').toString('base64')}\n====\ny\nbegin 644\n${uuencode('', Buffer.from('nameless')).split('\n').slice(1).join('\n')}\n`;
    const scan = scanUuBlocks(text);
    expect(scan.blocks.map((b) => [b.filename, b.data.toString()])).toEqual([
      ['b.txt', 'base64 inside'],
      ['', 'nameless'],
    ]);
    expect(withoutBlocks(text, scan.blocks)).toBe('x\ny\n');
  });

  it('leaves a truncated or garbage block in the text with a problem', () => {
    const truncated = uuencode('t.bin', data).split('\n').slice(0, 5).join('\n');
    const garbage = 'begin 644 g.bin\nthis is prose, not uuencode\nend\n';
    for (const text of [truncated, garbage]) {
      const scan = scanUuBlocks(text);
      expect(scan.blocks).toEqual([]);
      expect(scan.problems[0]).toMatch(/^uuencode-invalid: block "[tg]\.bin"/);
    }
    expect(scanUuBlocks('We begin 644 meetings at noon.\n')).toEqual({ blocks: [], problems: [] });
  });

  it('reads a hostile text of unterminated blocks once, with a bounded number of problems', () => {
    const stretch = `${'M'.padEnd(61, '!')}\n`.repeat(200);
    const text = `${'begin 644 x.bin\n'}${stretch}`.repeat(2000); // 25 MB, no end line anywhere
    const scan = scanUuBlocks(text);
    expect(scan.blocks).toEqual([]);
    expect(scan.problems).toHaveLength(101);
    expect(scan.problems[0]).toMatch(
      /^uuencode-invalid: block "x.bin": a line is not uuencoded: "begin 644 x.bin"/,
    );
    expect(scan.problems[100]).toMatch(/^uuencode-too-many:/);
    const last = scanUuBlocks(`begin 644 y.bin\n${stretch}`);
    expect(last.problems).toEqual([
      'uuencode-invalid: block "y.bin": the block has no end line (truncated?)',
    ]);
  });

  it('caps the number of blocks', () => {
    const text = Array.from({ length: 5 }, (_, i) => uuencode(`${i}.txt`, Buffer.from('x'))).join('\n');
    const scan = scanUuBlocks(text, 3);
    expect(scan.blocks).toHaveLength(3);
    expect(scan.problems).toEqual([expect.stringMatching(/^uuencode-too-many:/)]);
  });
});

describe('BinHex 4.0', () => {
  it('decodes the data fork and the name, with runs (0x90 RLE) and a literal 0x90', () => {
    const data = Buffer.concat([
      Buffer.from('abc'),
      Buffer.alloc(300, 7),
      Buffer.from([0x90, 0x90, 1]),
      randomBytes(500),
    ]);
    const result = decodeBinHex(`Some preamble\n${binhex('file.dat', data)}`, 1 << 20);
    expect(result.problems).toEqual([]);
    expect(result.filename).toBe('file.dat');
    expect(result.data!.equals(data)).toBe(true);
  });

  it('reports a CRC mismatch and still returns the bytes', () => {
    const result = decodeBinHex(binhex('x.txt', Buffer.from('hello')), 1 << 20);
    expect(result.problems).toEqual([]);
    const broken = decodeBinHex(binhex('x.txt', Buffer.from('hello'), { breakDataCrc: true }), 1 << 20);
    expect(broken.problems).toEqual(['binhex-crc: the data fork CRC of "x.txt" does not match']);
    expect(broken.data?.toString()).toBe('hello');
  });

  it('rejects missing markers, truncation, bad characters and expansions over the cap', () => {
    const good = binhex('x.txt', Buffer.alloc(5000, 0x41));
    const cases: Array<[string, RegExp]> = [
      ['no marker here', /no "\(This file must be converted/],
      [good.slice(0, good.length - 20), /truncated/],
      [good.replace(':', ':~~~'), /outside the BinHex alphabet/],
      ['(This file must be converted with BinHex 4.0)\n:!!:', /header is truncated/],
    ];
    for (const [text, why] of cases) {
      const result = decodeBinHex(text, 1 << 20);
      expect(result.data).toBeNull();
      expect(result.problems[0]).toMatch(why);
    }
    expect(decodeBinHex(good, 1000).problems[0]).toMatch(/over 1000 bytes/);
  });

  it('uses CRC-16/XMODEM', () => {
    expect(crc16(Buffer.from('123456789')).toString(16)).toBe('31c3');
  });
});

describe('TNEF', () => {
  it('reads each attachment, preferring the long file name and the MIME tag', () => {
    const a = randomBytes(2000);
    const b = Buffer.from('plain text file');
    const result = readTnef(
      tnef([
        { title: 'QUARTE~1.XLS', longName: 'Quarterly report 2026.xlsx', data: a },
        { title: 'notes.txt', data: b, mimeTag: 'text/plain' },
      ]),
    );
    expect(result.problems).toEqual([]);
    expect(result.attachments.map((x) => [x.filename, x.contentType, x.data?.length])).toEqual([
      ['Quarterly report 2026.xlsx', null, 2000],
      ['notes.txt', 'text/plain', b.length],
    ]);
    expect(result.attachments[0]!.data!.equals(a)).toBe(true);
  });

  it('stops at a bad signature, a length past the end or a truncated property list, without throwing', () => {
    const good = tnef([{ title: 'a.txt', data: Buffer.from('aaaa') }]);
    expect(readTnef(Buffer.from('not tnef at all')).problems).toEqual([
      'tnef-invalid: the TNEF signature 0x223E9F78 is missing',
    ]);
    const truncated = readTnef(good.subarray(0, good.length - 30));
    expect(truncated.problems.some((p) => p.startsWith('tnef-truncated:'))).toBe(true);
    const liar = Buffer.from(good);
    liar.writeUInt32LE(0xfffffff0, 6 + 5); // the first attribute claims 4 GB
    expect(readTnef(liar)).toEqual({
      attachments: [],
      problems: [expect.stringMatching(/^tnef-truncated: an attribute at offset 6 claims 4294967280 bytes/)],
    });
    const badSum = Buffer.from(good);
    badSum[badSum.length - 1]! ^= 0xff;
    expect(readTnef(badSum).problems).toContain('tnef-checksum: 1 attribute checksum(s) do not match');
  });

  it('reads 5 MB of garbage after a valid signature to a result', () => {
    const garbage = randomBytes(5 * 1024 * 1024);
    garbage.writeUInt32LE(0x223e9f78, 0);
    const result = readTnef(garbage);
    expect(result.problems.length).toBeGreaterThan(0);
    expect(result.attachments.length).toBeLessThanOrEqual(100);
  });
});

describe('content type from the extension', () => {
  it('guesses common types and falls back to octet-stream', () => {
    expect(contentTypeOf('a.PNG')).toBe('image/png');
    expect(contentTypeOf('report.docx')).toMatch(/wordprocessingml/);
    expect(contentTypeOf('x.constructor')).toBe('application/octet-stream');
    expect(contentTypeOf(null)).toBe('application/octet-stream');
    expect(contentTypeOf('noext')).toBe('application/octet-stream');
  });
});
