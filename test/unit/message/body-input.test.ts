import { describe, expect, it } from 'vitest';
import { bodyParserInput, byteLength } from '../../../lib/message/body-input.ts';
import { readHeaderBlock } from '../../../lib/message/header-block.ts';
import { effectiveLimits, scanMimeLimits } from '../../../lib/message/mime-limits.ts';

function inputOf(text: string, limits = {}): { raw: Buffer; chunks: Buffer[] } {
  const raw = Buffer.from(text, 'latin1');
  const lim = effectiveLimits(limits);
  const scan = scanMimeLimits(raw, lim);
  const end = scan.headerTerminated ? scan.bodyStart : raw.length;
  const { fields } = readHeaderBlock(raw, 0, end, lim.maxHeaders, lim.maxHeaderBytes);
  return { raw, chunks: bodyParserInput(raw, scan, fields) };
}

describe('bodyParserInput', () => {
  it('hands mailparser only the MIME fields, folded lines and all, then the body as a slice of the message', () => {
    const { raw, chunks } = inputOf(
      'Received: from a\r\n  by b\r\nFrom: Ann <ann@example.com>\r\nMIME-Version: 1.0\r\n' +
        'Content-Type: multipart/mixed;\r\n boundary="b1"\r\nSubject: =?utf-8?q?hi?=\r\n' +
        'Content-Transfer-Encoding: 7bit\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nHello\r\n--b1--\r\n',
    );
    expect(Buffer.concat(chunks).toString('latin1')).toBe(
      'MIME-Version: 1.0\r\nContent-Type: multipart/mixed;\r\n boundary="b1"\r\n' +
        'Content-Transfer-Encoding: 7bit\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nHello\r\n--b1--\r\n',
    );
    const body = chunks.at(-1)!;
    expect(body.buffer).toBe(raw.buffer); // not copied
    expect(byteLength(chunks)).toBe(Buffer.concat(chunks).length);
  });

  it('passes a message without a blank line after its header on as it is (no body)', () => {
    const { raw, chunks } = inputOf('From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain');
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.equals(raw)).toBe(true);
  });

  it('cuts the body at the scan limit', () => {
    const parts = Array.from(
      { length: 5 },
      (_, i) => `--b\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`,
    ).join('');
    const { chunks } = inputOf(`Content-Type: multipart/mixed; boundary=b\r\n\r\n${parts}--b--\r\n`, {
      maxParts: 2,
    });
    const text = Buffer.concat(chunks).toString('latin1');
    expect(text).toContain('part 0'); // the root counts as a part
    expect(text).not.toContain('part 1');
  });
});
