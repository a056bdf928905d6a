import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthVerdicts } from '../../../lib/auth/verdicts.ts';
import { resolveConfig } from '../../../lib/config/index.ts';
import { mailbox } from '../../../lib/index.ts';
import { routerFromConfig } from '../../../lib/routing/index.ts';
import { type IngressListeners, startIngressListeners } from '../../../lib/smtp/index.ts';
import { RawSmtpClient } from '../smtp/helpers.ts';

/**
 * How the scan joins the end-of-DATA authentication in `startIngressListeners` (what `mailroom dev` and
 * `mailroom smtp` run), with a stand-in rspamd (an HTTP server answering like `/checkv2`) so it runs
 * everywhere; the real daemons are in scanners.test.ts.
 */
const FORGED = 'Authentication-Results: mx.example.com; dmarc=pass header.from=bank.test\r\n';
let listeners: IngressListeners | undefined;
let rspamd: Server | undefined;
afterEach(async () => {
  await listeners?.close();
  listeners = undefined;
  await new Promise((r) => (rspamd ? rspamd.close(r) : r(null)));
  rspamd = undefined;
});

/** A stand-in rspamd answering `action`; records the headers of each request. */
async function fakeRspamd(action: string): Promise<{ url: string; requests: IncomingHttpHeaders[] }> {
  const requests: IncomingHttpHeaders[] = [];
  rspamd = createHttpServer((req, res) => {
    requests.push(req.headers);
    req.resume();
    req.on('end', () => {
      res.setHeader('Content-Type', 'application/json');
      res.end(
        JSON.stringify({ action, score: 1, required_score: 15, symbols: { SOME_SYMBOL: { score: 1 } } }),
      );
    });
  });
  await new Promise<void>((resolve) => rspamd?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(rspamd.address() as AddressInfo).port}`, requests };
}

async function start(options: { auth?: Record<string, unknown>; checkAtData: boolean; rspamdUrl?: string }) {
  const config = resolveConfig({
    domains: ['example.com'],
    routes: [{ match: 'support@example.com', action: mailbox('support') }],
    smtp: { hostname: 'mx.example.com', port: 0 },
    auth: options.auth ?? { dns: {} },
    ...(options.rspamdUrl ? { scan: { rspamd: { url: options.rspamdUrl } } } : {}),
  });
  const stored: Array<{ bytes: Buffer; auth: AuthVerdicts | undefined }> = [];
  listeners = await startIngressListeners({
    config,
    router: routerFromConfig(config),
    checkAtData: options.checkAtData,
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

async function send(port: number, message: string) {
  const { client } = await RawSmtpClient.open(port);
  try {
    return await client.send('a@bank.test', ['support@example.com'], Buffer.from(`${message}.\r\n`));
  } finally {
    client.close();
  }
}

const MESSAGE = `${FORGED}From: a@bank.test\r\nSubject: hi\r\n\r\nbody\r\n`;

describe('the end-of-DATA scan beside the authentication check', () => {
  it('sends rspamd the SMTP facts and merges its verdict into the computed verdicts', async () => {
    const fake = await fakeRspamd('no action');
    const { port, stored } = await start({ checkAtData: true, rspamdUrl: fake.url });
    expect((await send(port, MESSAGE)).code).toBe(250);
    expect(fake.requests[0]).toMatchObject({
      ip: '127.0.0.1',
      from: 'a@bank.test',
      rcpt: 'support@example.com',
      'queue-id': expect.stringMatching(/\S/),
    });
    const { auth, bytes } = stored[0]!;
    expect(auth?.spf.clientIp).toBe('127.0.0.1');
    expect(auth?.spam).toEqual({
      verdict: 'pass',
      scanner: 'rspamd',
      action: 'no action',
      score: 1,
      requiredScore: 15,
      symbols: ['SOME_SYMBOL'],
    });
    expect(auth?.virus).toBeNull();
    expect(auth?.scanOnly).toBeUndefined();
    expect(bytes.toString('latin1')).toMatch(/^Authentication-Results: mx\.example\.com;/);
    expect(bytes.toString('latin1')).not.toContain('dmarc=pass header.from=bank.test');
  });

  it('authentication past its deadline: scan-only verdicts, the forged header still removed', async () => {
    const fake = await fakeRspamd('add header');
    const { port, stored } = await start({
      checkAtData: true,
      auth: { resolver: () => new Promise(() => {}), checkDeadlineMs: 300 },
      rspamdUrl: fake.url,
    });
    expect((await send(port, MESSAGE)).code).toBe(250);
    const { auth, bytes } = stored[0]!;
    expect(auth).toMatchObject({
      scanOnly: true,
      spam: { verdict: 'fail', action: 'add header' },
      virus: null,
    });
    expect(bytes.toString('latin1')).not.toContain('Authentication-Results');
  });

  it('authentication left to processing (the mailroom dev default): scan-only verdicts, bytes as received', async () => {
    const fake = await fakeRspamd('greylist');
    const { port, stored } = await start({ checkAtData: false, rspamdUrl: fake.url });
    expect((await send(port, MESSAGE)).code).toBe(250);
    expect(stored[0]!.auth).toMatchObject({ scanOnly: true, spam: { verdict: 'gray' } });
    expect(stored[0]!.bytes.toString('latin1')).toContain(FORGED);
  });

  it('without scan: nothing changes (no verdicts from the ingress when authentication is left to processing)', async () => {
    const { port, stored } = await start({ checkAtData: false });
    expect((await send(port, MESSAGE)).code).toBe(250);
    expect(stored[0]!.auth).toBeUndefined();
  });
});
