import { afterEach, describe, expect, it } from 'vitest';
import type { AuthVerdicts } from '../../../lib/auth/verdicts.ts';
import { resolveConfig } from '../../../lib/config/index.ts';
import { mailbox } from '../../../lib/index.ts';
import { routerFromConfig } from '../../../lib/routing/index.ts';
import { type IngressListeners, startIngressListeners } from '../../../lib/smtp/index.ts';
import { RawSmtpClient } from './helpers.ts';

/**
 * The end-of-DATA check as `mailroom smtp` wires it (worker pool, deadline, forged-header removal), over
 * real SMTP: whatever the check manages, a forged `Authentication-Results` claiming our authserv-id never
 * reaches the store (RFC 8601 §5).
 */
const FORGED = 'Authentication-Results: mx.example.com; dmarc=pass header.from=bank.test\r\n';
let listeners: IngressListeners | undefined;
afterEach(async () => {
  await listeners?.close();
  listeners = undefined;
});

async function start(auth: Record<string, unknown>) {
  const config = resolveConfig({
    domains: ['example.com'],
    routes: [{ match: 'support@example.com', action: mailbox('support') }],
    smtp: { hostname: 'mx.example.com', port: 0 },
    auth,
  });
  const stored: Array<{ bytes: Buffer; auth: AuthVerdicts | undefined }> = [];
  listeners = await startIngressListeners({
    config,
    router: routerFromConfig(config),
    checkAtData: true,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    async accept(input) {
      const parts: Buffer[] = [input.prefix];
      for await (const chunk of input.body) parts.push(chunk);
      stored.push({ bytes: Buffer.concat(parts), auth: input.auth });
      return { id: `m${stored.length}` };
    },
  });
  return { port: listeners.smtpPort, stored };
}

async function send(port: number, message: string | Buffer) {
  const { client } = await RawSmtpClient.open(port);
  try {
    return await client.send(
      'a@bank.test',
      ['support@example.com'],
      Buffer.concat([Buffer.from(message), Buffer.from('.\r\n')]),
    );
  } finally {
    client.close();
  }
}

const headerBlock = (bytes: Buffer) => bytes.subarray(0, bytes.indexOf('\r\n\r\n') + 2).toString('latin1');

describe('end-of-DATA check (worker pool)', () => {
  it('checked: our Authentication-Results first, the forged one gone, verdicts kept with the message', async () => {
    const { port, stored } = await start({ dns: {} });
    const reply = await send(port, `${FORGED}From: a@bank.test\r\nSubject: hi\r\n\r\nbody\r\n`);
    expect(reply.code).toBe(250);
    const head = headerBlock(stored[0]!.bytes);
    expect(head).toMatch(/^Authentication-Results: mx\.example\.com;/);
    expect(head).not.toContain('dmarc=pass header.from=bank.test');
    expect(stored[0]!.auth?.spf.result).toBeTypeOf('string');
  });

  it('a check past its deadline (DNS never answers): 250, stored without verdicts, forged header still removed', async () => {
    const { port, stored } = await start({ resolver: () => new Promise(() => {}), checkDeadlineMs: 300 });
    const reply = await send(port, `${FORGED}From: a@bank.test\r\nSubject: slow dns\r\n\r\nbody\r\n`);
    expect(reply.code).toBe(250);
    expect(stored[0]!.auth).toBeUndefined();
    const head = headerBlock(stored[0]!.bytes);
    expect(head).not.toContain('Authentication-Results');
    expect(head).toContain('Subject: slow dns');
  });

  it('a message over 4 MiB (not inspected): the forged header is removed from its header block', async () => {
    const { port, stored } = await start({ dns: {} });
    const big = `${FORGED}From: a@bank.test\r\nSubject: big\r\n\r\n${'z'.repeat(998)}\r\n`.padEnd(
      5 * 1024 * 1024,
      'y',
    );
    const reply = await send(port, `${big}\r\n`);
    expect(reply.code).toBe(250);
    const head = headerBlock(stored[0]!.bytes);
    expect(head).not.toContain('Authentication-Results');
    expect(head).toMatch(/^Received: /);
    expect(stored[0]!.bytes.length).toBeGreaterThan(5 * 1024 * 1024 - FORGED.length);
  });
});
