import { describe, expect, it } from 'vitest';
import { DEFAULT_PARSE_LIMITS, scanMimeLimits } from '../../../lib/message/index.ts';

function eml(...lines: string[]): Buffer {
  return Buffer.from(lines.join('\r\n'));
}

describe('scanMimeLimits', () => {
  it('uses the documented defaults', () => {
    expect(DEFAULT_PARSE_LIMITS).toEqual({
      maxParts: 1000,
      maxDepth: 32,
      maxHeaderBytes: 1024 * 1024,
      maxHeaders: 2000,
    });
  });

  it('measures a simple message', () => {
    const raw = eml('From: a@example.com', 'Subject: s', '', 'body', '');
    const scan = scanMimeLimits(raw);
    expect(scan).toMatchObject({
      headerFields: 2,
      headerBytes: 'From: a@example.com\r\nSubject: s\r\n'.length,
      headerTerminated: true,
      bodyStart: 'From: a@example.com\r\nSubject: s\r\n\r\n'.length,
      headerLimitExceeded: false,
      parts: 1,
      depth: 0,
      crlfLines: 4,
      lfLines: 0,
      nulBytes: 0,
      cut: null,
      problems: [],
    });
  });

  it('counts parts and depth across nested multiparts, with folded boundary parameters', () => {
    const raw = eml(
      'Content-Type: multipart/mixed;',
      ' boundary="outer"',
      '',
      'preamble',
      '--outer',
      'Content-Type: multipart/alternative; boundary=inner',
      '',
      '--inner',
      'Content-Type: text/plain; charset=ISO-8859-1',
      '',
      'a',
      '--inner',
      'Content-Type: text/html; charset="utf-8"',
      '',
      '<p>a</p>',
      '--inner--',
      '--outer',
      'Content-Type: application/pdf',
      '',
      'x',
      '--outer--',
      '',
    );
    const scan = scanMimeLimits(raw);
    expect(scan.parts).toBe(5);
    expect(scan.depth).toBe(2);
    expect(scan.charsets.sort()).toEqual(['iso-8859-1', 'utf-8']);
    expect(scan.unterminatedMultiparts).toBe(0);
  });

  it('lets an outer delimiter close an inner multipart that never ended', () => {
    const raw = eml(
      'Content-Type: multipart/mixed; boundary=o',
      '',
      '--o',
      'Content-Type: multipart/mixed; boundary=i',
      '',
      '--i',
      '',
      'inner part',
      '--o',
      '',
      'second outer part',
      '--o--',
    );
    const scan = scanMimeLimits(raw);
    expect(scan.parts).toBe(4);
    expect(scan.unterminatedMultiparts).toBe(0);
  });

  it('reports multiparts left open and multiparts without a boundary', () => {
    expect(
      scanMimeLimits(eml('Content-Type: multipart/mixed; boundary=x', '', '--x', '', 'a'))
        .unterminatedMultiparts,
    ).toBe(1);
    expect(scanMimeLimits(eml('Content-Type: multipart/mixed', '', 'a')).multipartsWithoutBoundary).toBe(1);
  });

  it('cuts at the delimiter line of the part past the parts limit', () => {
    const lines = ['Content-Type: multipart/mixed; boundary=x', ''];
    for (let i = 0; i < 5; i++) lines.push('--x', '', `p${i}`);
    const raw = eml(...lines, '--x--');
    const scan = scanMimeLimits(raw, { maxParts: 3 });
    expect(scan.cut?.kind).toBe('parts');
    // parts: the top level plus p0 and p1; the cut is the delimiter that would open p2
    expect(raw.subarray(scan.cut!.offset).toString().startsWith('--x\r\n\r\np2')).toBe(true);
    expect(scan.problems[0]).toMatch(
      /^mime-parts-exceeded: more than 3 MIME parts; only the first \d+ of \d+ bytes were parsed$/,
    );
  });

  it('cuts at the part past the depth limit', () => {
    const lines = ['Content-Type: multipart/mixed; boundary=b0', ''];
    for (let i = 1; i <= 10; i++)
      lines.push(`--b${i - 1}`, `Content-Type: multipart/mixed; boundary=b${i}`, '');
    const scan = scanMimeLimits(eml(...lines), { maxDepth: 4 });
    expect(scan.cut?.kind).toBe('depth');
    expect(scan.depth).toBe(4);
    expect(scan.problems[0]).toMatch(/^mime-depth-exceeded: nesting deeper than 4 levels/);
  });

  it('treats identically named nested boundaries as nesting, and stops them at the depth limit', () => {
    const lines = ['Content-Type: multipart/mixed; boundary=x', ''];
    for (let i = 0; i < 100; i++) lines.push('--x', 'Content-Type: multipart/mixed; boundary=x', '');
    const scan = scanMimeLimits(eml(...lines));
    expect(scan.cut?.kind).toBe('depth');
  });

  it('flags a top-level header block over the limits without cutting the body', () => {
    const lines: string[] = [];
    for (let i = 0; i < 30; i++) lines.push(`X-N: ${i}`);
    const scan = scanMimeLimits(eml(...lines, '', 'body'), { maxHeaders: 10 });
    expect(scan.headerLimitExceeded).toBe(true);
    expect(scan.headerFields).toBe(30);
    expect(scan.cut).toBeNull();
    expect(scan.problems[0]).toMatch(/^too-many-headers: the header section has 30 fields/);
  });

  it('cuts before an inner part whose header is over the byte limit', () => {
    const raw = eml(
      'Content-Type: multipart/mixed; boundary=x',
      '',
      '--x',
      '',
      'ok',
      '--x',
      `X-Big: ${'b'.repeat(5000)}`,
      '',
      'big',
      '--x--',
    );
    const scan = scanMimeLimits(raw, { maxHeaderBytes: 1000 });
    expect(scan.cut?.kind).toBe('part-header-bytes');
    expect(raw.subarray(scan.cut!.offset, scan.cut!.offset + 5).toString()).toBe('--x\r\n');
  });

  it('skips an mbox From_ line, counts line endings and NUL bytes', () => {
    const scan = scanMimeLimits(
      Buffer.from('From someone Mon Jan  1 00:00:00 2024\nSubject: s\n\nb\0dy\r\n'),
    );
    expect(scan.headerFields).toBe(1);
    expect(scan.lfLines).toBe(2); // the From_ line itself is not part of the message
    expect(scan.crlfLines).toBe(1);
    expect(scan.nulBytes).toBe(1);
  });

  it('reports an unterminated header block', () => {
    const scan = scanMimeLimits(Buffer.from('Subject: only headers'));
    expect(scan.headerTerminated).toBe(false);
    expect(scan.bodyStart).toBe('Subject: only headers'.length);
  });

  it('does not descend into message/rfc822 parts (they stay attachments)', () => {
    const raw = eml(
      'Content-Type: multipart/mixed; boundary=x',
      '',
      '--x',
      'Content-Type: message/rfc822',
      'Content-Disposition: inline',
      '',
      'Content-Type: multipart/mixed; boundary=y',
      '',
      '--y',
      '',
      'inner',
      '--y--',
      '--x--',
    );
    const scan = scanMimeLimits(raw);
    expect(scan.parts).toBe(2);
    expect(scan.depth).toBe(1);
  });

  it('ignores invalid limit values', () => {
    const scan = scanMimeLimits(eml('Subject: s', '', 'b'), {
      maxParts: 0,
      maxDepth: Number.NaN,
      maxHeaders: -1,
    });
    expect(scan.cut).toBeNull();
    expect(scan.headerLimitExceeded).toBe(false);
  });
});
