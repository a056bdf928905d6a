import { describe, expect, it } from 'vitest';
import {
  AuthConfigError,
  type AuthVerdicts,
  authenticationResultsHeader,
  findForgedAuthResults,
} from '../../../lib/auth/index.ts';

const VERDICTS: AuthVerdicts = {
  source: 'mailauth',
  spf: {
    result: 'pass',
    scope: 'mailfrom',
    domain: 'example.com',
    mailFrom: 'ada@example.com',
    helo: 'mail.example.com',
    clientIp: '192.0.2.10',
  },
  dkim: [
    { result: 'pass', domain: 'example.com', selector: 'sel1', aligned: true, algorithm: 'rsa-sha256' },
    { result: 'fail', domain: 'example.net', selector: 's', aligned: false, comment: 'bad signature' },
  ],
  dmarc: {
    result: 'pass',
    domain: 'example.com',
    policy: 'reject',
    alignment: { spf: true, dkim: true },
    comment: 'p=REJECT',
  },
  arc: { result: 'none', instance: 0 },
  spam: null,
  virus: null,
};

describe('authenticationResultsHeader', () => {
  it('writes one method per line under our authserv-id', () => {
    expect(authenticationResultsHeader(VERDICTS, 'MX.Mailroom.Test.')).toBe(
      'Authentication-Results: mx.mailroom.test;\r\n' +
        ' spf=pass smtp.mailfrom=ada@example.com smtp.helo=mail.example.com;\r\n' +
        ' dkim=pass header.d=example.com header.s=sel1 header.a=rsa-sha256;\r\n' +
        ' dkim=fail (bad signature) header.d=example.net header.s=s;\r\n' +
        ' dmarc=pass (p=REJECT) header.from=example.com;\r\n' +
        ' arc=none\r\n',
    );
  });

  it('writes dkim=none for unsigned mail, leaves out ARC when not evaluated, says when SES decided', () => {
    const header = authenticationResultsHeader(
      {
        ...VERDICTS,
        source: 'ses',
        spf: { ...VERDICTS.spf, helo: null },
        dkim: [],
        arc: null,
        spam: { verdict: 'pass' },
      },
      'mx.mailroom.test',
    );
    expect(header).toBe(
      'Authentication-Results: mx.mailroom.test (verdicts from Amazon SES);\r\n' +
        ' spf=pass smtp.mailfrom=ada@example.com;\r\n' +
        ' dkim=none;\r\n' +
        ' dmarc=pass (p=REJECT) header.from=example.com\r\n',
    );
  });

  it('cannot be broken by values from the sender, and is found again as ours', () => {
    const header = authenticationResultsHeader(
      {
        ...VERDICTS,
        spf: {
          ...VERDICTS.spf,
          mailFrom: '"odd; dmarc=pass"@example.com\r\nX-Injected: 1',
          helo: 'evil (x) \\ helo',
          comment: 'a (comment) with \\ and\r\nX-Injected: 2',
        },
        dkim: [],
      },
      'mx.mailroom.test',
    );
    expect(header.split('\r\n').every((line, i) => i === 0 || line === '' || line.startsWith(' '))).toBe(
      true,
    );
    expect(header).not.toMatch(/\r\nX-Injected/);
    expect(header).toContain('smtp.mailfrom="\\"odd; dmarc=pass\\"@example.comX-Injected: 1"');
    expect(header).toContain('(a \\(comment\\) with \\\\ and X-Injected: 2)');
    const raw = Buffer.from(`${header}Subject: x\r\n\r\n`);
    expect(findForgedAuthResults(raw, 'mx.mailroom.test')).toEqual([{ start: 0, end: header.length }]);
  });

  it('refuses an authserv-id that is no host name', () => {
    expect(() => authenticationResultsHeader(VERDICTS, 'x; spf=pass')).toThrow(AuthConfigError);
  });
});
