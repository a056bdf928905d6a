import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { mailbox } from '../../lib/actions/builders.ts';
import { createStaticResolver, type DnsResolver } from '../../lib/auth/index.ts';
import { resolveConfig } from '../../lib/config/resolve-config.ts';
import { type LocalMailroom, startLocalMailroom } from '../../lib/dev/local-mailroom.ts';
import { silentLogger } from '../../lib/kernel/index.ts';

/** Processing reuses SPF verdicts of a repeat sender for `auth.cacheSeconds` (default 60). */
const zone = createStaticResolver({
  'local.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
  '_dmarc.local.test': { TXT: ['v=DMARC1; p=none'] },
});
const RAW =
  'From: Ada <ada@local.test>\r\nTo: box@example.com\r\nSubject: hi\r\n' +
  'Date: Tue, 01 Jul 2025 10:00:00 +0000\r\n\r\nHello\r\n';

let running: { mr: LocalMailroom; dir: string } | undefined;
afterEach(async () => {
  await running?.mr.close();
  if (running) rmSync(running.dir, { recursive: true, force: true });
  running = undefined;
});

/** Sends two messages from the same sender; how many SPF questions processing asked, and the verdicts. */
async function twoMessages(cacheSeconds?: number): Promise<{ spfQuestions: number; spf: unknown[] }> {
  let spfQuestions = 0;
  const resolver: DnsResolver = (name, rrtype) => {
    if (name === 'local.test' && rrtype === 'TXT') spfQuestions++;
    return zone(name, rrtype);
  };
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-spf-cache-'));
  const config = resolveConfig({
    domains: ['example.com'],
    dataDir: dir,
    delivery: { processingDelayMaxMs: 0, backoffMs: 0 },
    auth: { resolver, ...(cacheSeconds !== undefined ? { cacheSeconds } : {}) },
    routes: [{ match: 'box@example.com', action: mailbox('box') }],
  });
  const mr = await startLocalMailroom({ config, logger: silentLogger, smtpPort: 0, httpPort: 0 });
  running = { mr, dir };
  const transport = createTransport({
    host: '127.0.0.1',
    port: mr.smtpPort,
    ignoreTLS: true,
    name: 'mx.local.test',
  });
  try {
    for (let i = 0; i < 2; i++) {
      await transport.sendMail({ envelope: { from: 'ada@local.test', to: ['box@example.com'] }, raw: RAW });
      await mr.pipeline.drain();
    }
  } finally {
    transport.close();
  }
  const res = await fetch(`http://127.0.0.1:${mr.httpPort}/api/messages`);
  const { messages } = (await res.json()) as { messages: Array<{ id: string }> };
  const spf = [];
  for (const { id } of messages) {
    const detail = (await (await fetch(`http://127.0.0.1:${mr.httpPort}/api/messages/${id}`)).json()) as {
      auth: { spf: unknown };
    };
    spf.push(detail.auth.spf);
  }
  return { spfQuestions, spf };
}

describe('processing: auth.cacheSeconds', () => {
  it('by default, the second message of a sender reuses the first one’s SPF verdict', async () => {
    const { spfQuestions, spf } = await twoMessages();
    expect(spfQuestions).toBe(1);
    expect(spf).toHaveLength(2);
    expect(spf[0]).toMatchObject({ result: 'pass', clientIp: '127.0.0.1' });
    expect(spf[1]).toEqual(spf[0]);
  });

  it('0 checks SPF for every message', async () => {
    expect((await twoMessages(0)).spfQuestions).toBe(2);
  });
});
