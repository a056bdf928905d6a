import { describe, expect, it } from 'vitest';
import { receivedHeader, rfc5322Date } from '../../../lib/smtp/received-header.ts';

const date = new Date(Date.UTC(2025, 6, 1, 9, 5, 7));

describe('receivedHeader', () => {
  it('has the RFC 5321 §4.4 form with a for clause for a single recipient', () => {
    expect(
      receivedHeader({
        helo: 'client.example',
        remoteAddress: '192.0.2.1',
        hostname: 'mx.example.com',
        id: 'abc.1',
        recipients: ['support@example.com'],
        date,
      }),
    ).toBe(
      'Received: from client.example ([192.0.2.1])\r\n\tby mx.example.com with ESMTP id abc.1\r\n' +
        '\tfor <support@example.com>; Tue, 01 Jul 2025 09:05:07 +0000\r\n',
    );
  });

  it('names no recipient when there are several, marks IPv6 literals, unwraps IPv4-mapped addresses', () => {
    const h = receivedHeader({
      remoteAddress: '2001:db8::1',
      hostname: 'mx',
      protocol: 'ESMTPS',
      id: 'x',
      recipients: ['a@example.com', 'b@example.com'],
      date,
    });
    expect(h).toBe(
      'Received: from [IPv6:2001:db8::1]\r\n\tby mx with ESMTPS id x; Tue, 01 Jul 2025 09:05:07 +0000\r\n',
    );
    expect(
      receivedHeader({ remoteAddress: '::ffff:127.0.0.1', hostname: 'mx', id: 'x', recipients: [], date }),
    ).toMatch(/^Received: from \[127\.0\.0\.1\]\r\n/);
  });

  it('cannot be broken by hostile client values', () => {
    const h = receivedHeader({
      helo: 'evil\r\nX-Injected: yes (comment',
      remoteAddress: '1.2.3.4',
      hostname: 'mx',
      id: 'x',
      recipients: ['a>\r\nBcc: victim@example.com;@example.com'],
      date,
    });
    expect(h.split('\r\n').filter(Boolean)).toHaveLength(3);
    expect(h).not.toMatch(/\r\n[^\t]/);
    expect(h.endsWith('\r\n')).toBe(true);
    expect(h).not.toMatch(/\r\nX-Injected|\r\nBcc/);
  });

  it('formats dates as RFC 5322 in UTC', () => {
    expect(rfc5322Date(new Date(Date.UTC(1999, 11, 31, 23, 59, 59)))).toBe('Fri, 31 Dec 1999 23:59:59 +0000');
  });
});
