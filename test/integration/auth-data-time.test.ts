import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailbox } from '../../lib/actions/builders.ts';
import { resolveConfig } from '../../lib/config/resolve-config.ts';
import { type LocalMailroom, startLocalMailroom } from '../../lib/dev/local-mailroom.ts';
import { silentLogger } from '../../lib/kernel/index.ts';

/**
 * `auth.dmarcReject` / `auth.checkAtData`: verdicts at the end of DATA, through the real SMTP ingress, DNS
 * from a static zone. The stored copy starts with our Authentication-Results header; forged ones claiming
 * our authserv-id are gone from it; DMARC p=reject failures are refused before anything is stored.
 */
const AUTHSERV_ID = 'mx.example.com';
let dir: string;
let mr: LocalMailroom;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailroom-auth-data-'));
  const config = resolveConfig({
    domains: ['example.com'],
    dataDir: dir,
    smtp: { hostname: AUTHSERV_ID },
    auth: {
      dmarcReject: true,
      dns: {
        'strict.test': { TXT: ['v=spf1 ip4:192.0.2.0/24 -all'] },
        '_dmarc.strict.test': { TXT: ['v=DMARC1; p=reject'] },
        'local.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
        '_dmarc.local.test': { TXT: ['v=DMARC1; p=reject'] },
      },
    },
    routes: [{ name: 'support', match: 'support@example.com', action: mailbox('support') }],
  });
  mr = await startLocalMailroom({ config, logger: silentLogger, smtpPort: 0, httpPort: 0 });
});
afterAll(async () => {
  await mr?.close();
  rmSync(dir, { recursive: true, force: true });
});

const send = (from: string, raw: string) =>
  createTransport({ host: '127.0.0.1', port: mr.smtpPort, secure: false, ignoreTLS: true }).sendMail({
    envelope: { from, to: ['support@example.com'] },
    raw: raw.replace(/\r?\n/g, '\r\n'),
  });

describe('authentication at the end of DATA', () => {
  it('refuses a DMARC p=reject failure with 550 5.7.1 and stores nothing', async () => {
    const before = (await (await fetch(`http://127.0.0.1:${mr.httpPort}/api/messages`)).json()) as {
      messages: unknown[];
    };
    const err = await send(
      'ceo@strict.test',
      'From: ceo@strict.test\nSubject: wire the money\n\nnow\n',
    ).catch((e: { response: string }) => e);
    expect('response' in err && err.response).toMatch(/^550 5\.7\.1 DMARC policy of strict\.test/);
    const after = (await (await fetch(`http://127.0.0.1:${mr.httpPort}/api/messages`)).json()) as {
      messages: unknown[];
    };
    expect(after.messages).toHaveLength(before.messages.length);
  });

  it('puts our Authentication-Results first and drops forged ones that claim our authserv-id', async () => {
    const info = await send(
      'ada@local.test',
      `Authentication-Results: ${AUTHSERV_ID.toUpperCase()}; spf=pass smtp.mailfrom=ceo@strict.test; dmarc=pass
Authentication-Results: other.example; spf=none
From: ada@local.test
Subject: hello

hi
`,
    );
    const id = info.response.match(/queued as (\S+)/)![1]!;
    const raw = await (await fetch(`http://127.0.0.1:${mr.httpPort}/api/messages/${id}/raw`)).text();
    const headers = raw.slice(0, raw.indexOf('\r\n\r\n')).split(/\r\n(?![ \t])/);
    expect(headers[0]).toMatch(new RegExp(`^Authentication-Results: ${AUTHSERV_ID.replace(/\./g, '\\.')};`));
    expect(headers[0]).toMatch(/spf=pass/);
    expect(headers[0]).toMatch(/dmarc=pass/);
    expect(headers[1]).toMatch(/^Received: /);
    // the sender's claim in our name is gone; someone else's header stays
    expect(headers.filter((h) => /^Authentication-Results:/i.test(h))).toHaveLength(2);
    expect(headers).toContain('Authentication-Results: other.example; spf=none');
    expect(raw.endsWith('\r\n\r\nhi\r\n')).toBe(true);
  });

  it('accepts the 150,000-line folded Subject; its verdicts say the header was too complex to check', async () => {
    const info = await send(
      'ada@local.test',
      `From: ada@local.test\nSubject: x\n${' y\n'.repeat(150_000)}\nhi\n`,
    );
    const id = info.response.match(/queued as (\S+)/)![1]!;
    const raw = await (await fetch(`http://127.0.0.1:${mr.httpPort}/api/messages/${id}/raw`)).text();
    const ours = raw.slice(0, raw.indexOf('\r\nReceived: '));
    expect(ours).toMatch(/spf=pass/); // SPF needs only the SMTP transaction
    expect(ours).toMatch(/dkim=permerror \(header block too complex: \d+ bytes of header, limit 131072\)/);
    expect(ours).toMatch(/dmarc=permerror/);
  });
});
