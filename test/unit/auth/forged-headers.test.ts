import { describe, expect, it } from 'vitest';
import {
  AuthConfigError,
  findForgedAuthResults,
  isSenderVerdictHeader,
  stripForgedAuthResults,
} from '../../../lib/auth/index.ts';

const ID = 'mx.mailroom.test';

function strip(text: string): { text: string; removed: number } {
  const { raw, removed } = stripForgedAuthResults(Buffer.from(text, 'latin1'), ID);
  return { text: raw.toString('latin1'), removed };
}

describe('stripForgedAuthResults', () => {
  it('removes every Authentication-Results claiming our authserv-id, keeps the rest byte for byte', () => {
    const input =
      'Received: from a\r\n' +
      'Authentication-Results: mx.mailroom.test; dmarc=pass\r\n' +
      'Authentication-Results: mx.google.com;\r\n dkim=pass header.d=example.com\r\n' +
      'authentication-results:   MX.Mailroom.Test.;\r\n\tspf=pass\r\n' +
      'From: a@example.com\r\n' +
      '\r\n' +
      'Authentication-Results: mx.mailroom.test; in the body\r\n';
    expect(strip(input)).toEqual({
      text:
        'Received: from a\r\n' +
        'Authentication-Results: mx.google.com;\r\n dkim=pass header.d=example.com\r\n' +
        'From: a@example.com\r\n' +
        '\r\n' +
        'Authentication-Results: mx.mailroom.test; in the body\r\n',
      removed: 2,
    });
  });

  it('reads the authserv-id past comments, folding and quoting', () => {
    for (const value of [
      ' (nested (comment) \\) here) mx.mailroom.test; spf=pass',
      '\r\n (c)\r\n\tmx.mailroom.test(c); spf=pass',
      ' "mx.mailroom.test" 1; spf=pass',
      ' "MX.MAILROOM.\\TEST"; none',
      ' mx.mailroom.test',
      'mx.mailroom.test 1 ; none',
    ]) {
      expect(strip(`Authentication-Results:${value}\r\nSubject: x\r\n\r\nbody`), value).toEqual({
        text: 'Subject: x\r\n\r\nbody',
        removed: 1,
      });
    }
  });

  it('keeps look-alikes and other ids', () => {
    const kept = [
      'Authentication-Results: mx.mailroom.test.evil.example; dmarc=pass',
      'Authentication-Results: evil-mx.mailroom.test; dmarc=pass',
      'Authentication-Results: (mx.mailroom.test) other.example; dmarc=pass',
      'Authentication-Results: ; mx.mailroom.test',
      'X-Authentication-Results: mx.mailroom.test; dmarc=pass',
      'ARC-Authentication-Results: i=1; mx.mailroom.test; dmarc=pass',
    ];
    const input = `${kept.join('\r\n')}\r\n\r\nbody`;
    expect(strip(input)).toEqual({ text: input, removed: 0 });
    expect(stripForgedAuthResults(Buffer.from(input), ID).raw).toBeInstanceOf(Buffer);
  });

  it('handles LF-only messages, a header without body, whitespace before the colon', () => {
    expect(strip('Authentication-Results: mx.mailroom.test; x\nSubject: y\n\nbody\n')).toEqual({
      text: 'Subject: y\n\nbody\n',
      removed: 1,
    });
    expect(strip('Subject: y\r\nAuthentication-Results : mx.mailroom.test; x')).toEqual({
      text: 'Subject: y\r\n',
      removed: 1,
    });
    expect(strip('')).toEqual({ text: '', removed: 0 });
  });

  it('gives byte spans; rejects an authserv-id that is no host name', () => {
    const raw = Buffer.from('A: b\r\nAuthentication-Results: mx.mailroom.test; x\r\n\r\n');
    expect(findForgedAuthResults(raw, ID)).toEqual([{ start: 6, end: raw.length - 2 }]);
    expect(() => findForgedAuthResults(raw, 'mx; spf=pass')).toThrow(AuthConfigError);
    expect(() => stripForgedAuthResults(raw, '')).toThrow(AuthConfigError);
  });
});

describe('findForgedAuthResults on a hostile header block', () => {
  it('finds the forgery after two million short fields and folded lines, and nothing in the body', () => {
    const head = 'a:\n'.repeat(1_000_000) + `X: y\n${' \n'.repeat(1_000_000)}`;
    const forged = `authentication-results : ${ID}; dkim=pass\n`;
    const raw = Buffer.from(`${head}${forged}Subject: hi\n\n${forged}`, 'latin1');
    expect(findForgedAuthResults(raw, ID)).toEqual([
      { start: head.length, end: head.length + forged.length },
    ]);
  });
});

describe('isSenderVerdictHeader', () => {
  it('names the headers whose verdicts are never read', () => {
    for (const name of [
      'X-SES-Spam-Verdict',
      'x-ses-virus-verdict',
      'X-SES-Receipt',
      'X-Mailroom-Auth',
      'Authentication-Results',
      'Received-SPF',
      'X-Spam-Status',
    ]) {
      expect(isSenderVerdictHeader(name), name).toBe(true);
    }
    for (const name of ['From', 'Subject', 'X-Sesame', 'DKIM-Signature', 'Received']) {
      expect(isSenderVerdictHeader(name), name).toBe(false);
    }
  });
});
