import { createTransport } from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../lib/config/index.ts';
import { mailbox } from '../../../lib/index.ts';
import { routerFromConfig } from '../../../lib/routing/index.ts';
import { type IngressListeners, startIngressListeners } from '../../../lib/smtp/index.ts';
import { RawSmtpClient, startTestIngress, type TestIngress } from './helpers.ts';

// smtp.greetingDelayMs over real sockets: the pause before the 220, and what an early talker gets.
// No timing is asserted, only who is served and who is refused.

let running: TestIngress | undefined;
let listeners: IngressListeners | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
  await listeners?.close();
  listeners = undefined;
});

async function start(greetingDelayMs: number): Promise<TestIngress> {
  running = await startTestIngress({ smtp: { greetingDelayMs } });
  return running;
}

/** EHLO and a whole transaction, written at once with the connect, before any reply. */
const EARLY_EHLO = 'EHLO early.test\r\n';
const MESSAGE = 'Subject: early\r\n\r\nsent before the greeting\r\n.\r\n';

async function sendWithNodemailer(port: number): Promise<string> {
  const transport = createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true });
  try {
    const info = await transport.sendMail({
      from: 'someone@elsewhere.test',
      to: 'support@example.com',
      subject: 'patient',
      text: 'waited for the greeting',
    });
    return info.response;
  } finally {
    transport.close();
  }
}

describe('smtp.greetingDelayMs', () => {
  it('defaults to 100 ms, smtp-server’s own pause', () => {
    const config = resolveConfig({ domains: ['example.com'], routes: [] });
    expect(config.smtp.greetingDelayMs).toBe(100);
  });

  it('0: a client that sends EHLO with its connect is greeted, then served, and its message stored', async () => {
    const t = await start(0);
    const { client, greeting } = await RawSmtpClient.connect(t.port, EARLY_EHLO);
    expect(greeting.text).toBe('220 mx.test.example ESMTP');
    expect((await client.reply()).code).toBe(250);
    const reply = await client.send('a@elsewhere.test', ['support@example.com'], MESSAGE);
    expect(reply.text).toMatch(/^250 2\.0\.0 Ok: queued as /);
    client.close();
    expect(t.accepted).toHaveLength(1);
  });

  it('0: nodemailer is served', async () => {
    const t = await start(0);
    expect(await sendWithNodemailer(t.port)).toMatch(/^250 2\.0\.0 Ok: queued as /);
  });

  it('> 0: a client that talks before the greeting gets 421 You talk too soon and nothing is stored', async () => {
    const t = await start(30_000);
    const { client, greeting } = await RawSmtpClient.connect(t.port, `${EARLY_EHLO}MAIL FROM:<a@x.test>\r\n`);
    expect(greeting.text).toBe('421 mx.test.example You talk too soon');
    await client.closed;
    expect(t.accepted).toHaveLength(0);
  });

  it('> 0: a client that waits for the greeting is served', async () => {
    const t = await start(50);
    expect(await sendWithNodemailer(t.port)).toMatch(/^250 2\.0\.0 Ok: queued as /);
    const { client, greeting } = await RawSmtpClient.connect(t.port);
    expect(greeting.code).toBe(220);
    expect((await client.command('EHLO patient.test')).code).toBe(250);
    client.close();
  });

  it.each([
    [0, 250],
    [30_000, 421],
  ])(
    'from the config, as `mailroom smtp` and `mailroom dev` start the ingress: %i ms → %i to an early EHLO',
    async (greetingDelayMs, code) => {
      const config = resolveConfig({
        domains: ['example.com'],
        routes: [{ match: 'support@example.com', action: mailbox('support') }],
        smtp: { port: 0, greetingDelayMs },
      });
      listeners = await startIngressListeners({
        config,
        router: routerFromConfig(config),
        checkAtData: false,
        logger: { debug() {}, info() {}, warn() {}, error() {} },
        accept: async () => ({ id: 'm1' }),
      });
      const { client, greeting } = await RawSmtpClient.connect(listeners.smtpPort, EARLY_EHLO);
      const reply = greeting.code === 220 ? await client.reply() : greeting;
      client.close();
      expect(reply.code).toBe(code);
    },
  );
});
