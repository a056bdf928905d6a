import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../../lib/config/errors.ts';
import { resolveConfig } from '../../../lib/config/index.ts';
import type { SmtpOptions } from '../../../lib/config/types.ts';
import { addressMatcher, clientKey, smtpDefaults, WindowCounter } from '../../../lib/smtp/limits.ts';
import { expectCode, RawSmtpClient, startTestIngress, type TestIngress } from './helpers.ts';

let running: TestIngress | undefined;
const clients: RawSmtpClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await running?.stop();
  running = undefined;
});

async function start(smtp: Partial<SmtpOptions> = {}, opts: Parameters<typeof startTestIngress>[0] = {}) {
  running = await startTestIngress({ ...opts, smtp });
  return running;
}

async function connect(port: number) {
  const result = await RawSmtpClient.connect(port);
  clients.push(result.client);
  return result;
}

async function open(port: number) {
  const result = await RawSmtpClient.open(port);
  clients.push(result.client);
  return result.client;
}

async function until(check: () => Promise<boolean> | boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(10);
  }
}

const MESSAGE = 'Subject: hi\r\n\r\nhello\r\n.\r\n';

describe('SMTP hardening: line endings in commands', () => {
  it.each([
    ['bare LF', 'EHLO client.test\n', /^421 4\.5\.2 .*bare LF/],
    ['bare CR', 'NOOP\rMAIL FROM:<a@elsewhere.test>\r\n', /^421 4\.5\.2 .*bare CR/],
    ['NUL', 'NOOP \0\r\n', /^421 4\.5\.2 .*NUL/],
    ['bare LF after a good command', 'NOOP\r\nRSET\nNOOP\r\n', /^250 /],
  ])('%s: 421 4.5.2 and the connection is closed', async (_name, input, first) => {
    const t = await start();
    const { client } = await connect(t.port);
    client.write(input);
    expect((await client.reply()).text).toMatch(first);
    if (!first.source.startsWith('^421'))
      expect((await client.reply()).text).toMatch(/^421 4\.5\.2 .*bare LF/);
    await client.closed;
  });

  it('takes a command split over several packets, CR and LF apart', async () => {
    const t = await start();
    const { client } = await connect(t.port);
    for (const piece of ['EH', 'LO client.test\r', '\nNO', 'OP\r', '\n']) {
      client.write(piece);
      await sleep(20);
    }
    expect((await client.reply()).code).toBe(250);
    expect((await client.reply()).code).toBe(250);
  });
});

describe('SMTP pipelining (RFC 2920)', () => {
  it('answers commands pipelined in one write with one write', async () => {
    const t = await start();
    const client = await open(t.port);
    const writes: string[] = [];
    const spies = (['_write', '_writev'] as const).map((method) => {
      const original = Socket.prototype[method] as (...args: unknown[]) => unknown;
      return vi.spyOn(Socket.prototype, method).mockImplementation(function (
        this: Socket,
        ...args: unknown[]
      ) {
        if (this !== client.socket) writes.push(method);
        return original.apply(this, args);
      });
    });
    try {
      client.write(
        'MAIL FROM:<a@elsewhere.test>\r\nRCPT TO:<support@example.com>\r\nRCPT TO:<postmaster@example.com>\r\n',
      );
      expect([(await client.reply()).code, (await client.reply()).code, (await client.reply()).code]).toEqual(
        [250, 250, 250],
      );
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(writes).toEqual(['_writev']);
  });
});

describe('SMTP hardening: pipelining around DATA', () => {
  it('accepts QUIT pipelined after the end of DATA (RFC 2920 §4): 250, then 221', async () => {
    const t = await start();
    const client = await open(t.port);
    await expectCode(client.command('MAIL FROM:<a@elsewhere.test>'), 250);
    await expectCode(client.command('RCPT TO:<support@example.com>'), 250);
    await expectCode(client.command('DATA'), 354);
    client.write(`${MESSAGE}QUIT\r\n`);
    expect((await client.reply()).text).toMatch(/^250 2\.0\.0 Ok: queued as /);
    expect((await client.reply()).code).toBe(221);
    await client.closed;
    expect(await t.store.list()).toHaveLength(1);
  });

  it('refuses commands that arrive after the end of DATA in a later packet, before the reply', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const t = await start(
      {},
      {
        async accept(input, store) {
          for await (const _ of input.body);
          await gate; // the store is slow: the reply waits
          await store.put('late', Buffer.from('x'));
          return { id: 'late' };
        },
      },
    );
    const client = await open(t.port);
    await expectCode(client.command('MAIL FROM:<a@elsewhere.test>'), 250);
    await expectCode(client.command('RCPT TO:<support@example.com>'), 250);
    await expectCode(client.command('DATA'), 354);
    client.write(MESSAGE);
    await sleep(50);
    client.write('MAIL FROM:<b@elsewhere.test>\r\n');
    await sleep(50);
    release();
    // The message itself was complete and stored before the commands could be judged: 250. The
    // pipelined MAIL never runs.
    expect((await client.reply()).code).toBe(250);
    expect((await client.reply()).text).toMatch(/^421 4\.5\.0 /);
    await client.closed;
  });

  it('refuses a message sent in the same packet as DATA (before 354) with 554 5.5.0; session goes on', async () => {
    const t = await start();
    const client = await open(t.port);
    await expectCode(client.command('MAIL FROM:<a@elsewhere.test>'), 250);
    await expectCode(client.command('RCPT TO:<support@example.com>'), 250);
    client.write(`DATA\r\n${MESSAGE}`);
    expect((await client.reply()).code).toBe(354);
    expect((await client.reply()).text).toMatch(/^554 5\.5\.0 .*before the 354/);
    expect((await client.command('NOOP')).code).toBe(250);
    expect(await t.store.list()).toEqual([]);
    // Pipelining MAIL, RCPT and DATA and waiting for 354 is fine.
    client.write('MAIL FROM:<a@elsewhere.test>\r\nRCPT TO:<support@example.com>\r\nDATA\r\n');
    for (const code of [250, 250, 354]) expect((await client.reply()).code).toBe(code);
    client.write(MESSAGE);
    expect((await client.reply()).code).toBe(250);
  });
});

describe('SMTP hardening: strict framing keeps good mail intact', () => {
  it('stores dot-stuffed messages byte-exact however the packets split them', async () => {
    const t = await start();
    const client = await open(t.port);
    client.socket.setNoDelay(true);
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const lines = ['.', '..', '...', '. ', '.x', 'x.', '', 'plain', '\xff\x01 8bit'];
    for (let round = 0; round < 6; round++) {
      const body = Array.from({ length: 80 }, () => `${lines[random(lines.length)]}\r\n`).join('');
      const message = Buffer.from(`Subject: round ${round}\r\n\r\n${body}`, 'latin1');
      const stuffed = Buffer.from(
        `${message.toString('latin1').replace(/(^|\n)\./g, '$1..')}.\r\n`,
        'latin1',
      );
      await expectCode(client.command('MAIL FROM:<a@elsewhere.test>'), 250);
      await expectCode(client.command('RCPT TO:<support@example.com>'), 250);
      await expectCode(client.command('DATA'), 354);
      for (let at = 0; at < stuffed.length; ) {
        const size = 1 + random(round < 3 ? 4 : 40);
        client.write(stuffed.subarray(at, at + size));
        at += size;
        await new Promise((r) => setImmediate(r));
      }
      const reply = await client.reply();
      expect(reply.code).toBe(250);
      const id = reply.text.slice(reply.text.lastIndexOf(' ') + 1);
      const stored = await t.store.get(id);
      expect(stored.subarray(stored.length - message.length).equals(message)).toBe(true);
    }
    // An empty message: `.` right after 354.
    expect((await client.send('a@elsewhere.test', ['support@example.com'], '.\r\n')).code).toBe(250);
  });
});

describe('SMTP limits: command line length and bad commands', () => {
  it('answers 500 5.5.2 to a command line over 512 octets and goes on; 512 exactly is fine', async () => {
    const t = await start();
    const client = await open(t.port);
    const ok = `NOOP ${'x'.repeat(512 - 'NOOP \r\n'.length)}`;
    expect((await client.command(ok)).code).toBe(250);
    expect((await client.command(`${ok}x`)).text).toBe('500 5.5.2 Line too long');
    // A long line in many packets, with no CRLF for a while, is discarded as it comes.
    for (let i = 0; i < 20; i++) client.write('y'.repeat(10_000));
    expect((await client.command('')).text).toBe('500 5.5.2 Line too long');
    expect((await client.command('NOOP')).code).toBe(250);
  });

  it('closes the session with 421 4.7.0 at maxBadCommands unrecognised or invalid commands', async () => {
    const t = await start({ maxBadCommands: 4 });
    const client = await open(t.port);
    expect((await client.command('FOO')).code).toBe(500);
    expect((await client.command('RCPT TO:<support@example.com>')).code).toBe(503);
    expect((await client.command(`NOOP ${'z'.repeat(600)}`)).code).toBe(500);
    expect((await client.command('BAR')).text).toBe('421 4.7.0 Too many bad commands, closing connection');
    await client.closed;
  });

  it('counts past smtp-server’s own limit of 10 when maxBadCommands is higher; a 250 to DATA resets it', async () => {
    const t = await start({ maxBadCommands: 15 });
    const client = await open(t.port);
    for (let i = 0; i < 12; i++) expect((await client.command('FOO')).code).toBe(500);
    await client.send('a@elsewhere.test', ['support@example.com'], MESSAGE);
    for (let i = 0; i < 14; i++) expect((await client.command('FOO')).code).toBe(500);
    expect((await client.command('FOO')).code).toBe(421);
  });
});

describe('SMTP limits: connections', () => {
  it('greets one client over maxClients with 421 4.7.0 and closes it', async () => {
    const t = await start({ maxClients: 2 });
    expect((await connect(t.port)).greeting.code).toBe(220);
    const { client: second, greeting } = await connect(t.port);
    expect(greeting.code).toBe(220);
    const third = await connect(t.port);
    expect(third.greeting.text).toBe('421 4.7.0 mx.test.example Too many connections, try again later');
    await third.client.closed;
    second.close();
    await until(() => t.ingress.server.connections.size === 1);
    expect((await connect(t.port)).greeting.code).toBe(220);
  });

  it('refuses a connection over maxClientsPerIp with 421 4.7.0; loopback is exempt by default', async () => {
    const t = await start({ maxClientsPerIp: 2, limitExemptIps: [] });
    for (let i = 0; i < 2; i++) expect((await connect(t.port)).greeting.code).toBe(220);
    const over = await connect(t.port);
    expect(over.greeting.text).toMatch(/^421 4\.7\.0 .*Too many connections from your address/);
    await over.client.closed;
    await running!.stop();

    running = await startTestIngress({ smtp: { maxClientsPerIp: 2 } });
    for (let i = 0; i < 3; i++) expect((await connect(running.port)).greeting.code).toBe(220);
  });

  it('refuses connections over connectionRatePerIp per window with 421 4.7.0, and lets them in again after', async () => {
    const t = await start({ connectionRatePerIp: 3, rateWindowMs: 1_500, limitExemptIps: ['10.0.0.0/8'] });
    for (let i = 0; i < 3; i++) {
      const { client, greeting } = await connect(t.port);
      expect(greeting.code).toBe(220);
      client.close();
    }
    const over = await connect(t.port);
    expect(over.greeting.text).toMatch(/^421 4\.7\.0 .*Too many connections from your address/);
    await sleep(1_600);
    expect((await connect(t.port)).greeting.code).toBe(220);
  });

  it('answers MAIL FROM over messageRatePerIp with 450 4.7.1, across connections', async () => {
    const t = await start({ messageRatePerIp: 3, limitExemptIps: [] });
    const first = await open(t.port);
    expect((await first.send('a@elsewhere.test', ['support@example.com'], MESSAGE)).code).toBe(250);
    expect((await first.send('a@elsewhere.test', ['support@example.com'], MESSAGE)).code).toBe(250);
    first.close();
    const second = await open(t.port);
    expect((await second.send('a@elsewhere.test', ['support@example.com'], MESSAGE)).code).toBe(250);
    expect((await second.command('MAIL FROM:<a@elsewhere.test>')).text).toBe(
      '450 4.7.1 Too many messages from your address, try again later',
    );
    expect(await t.store.list()).toHaveLength(3);
  });
});

describe('SMTP limits: timeouts (RFC 5321 §4.5.3.2)', () => {
  it('cuts off a slow DATA client after dataBlockTimeoutMs with 421 4.4.2 and keeps nothing', async () => {
    const t = await start({ dataBlockTimeoutMs: 300 });
    const client = await open(t.port);
    await expectCode(client.command('MAIL FROM:<a@elsewhere.test>'), 250);
    await expectCode(client.command('RCPT TO:<support@example.com>'), 250);
    await expectCode(client.command('DATA'), 354);
    // Trickles faster than the timeout for a while: that is allowed.
    let stalled = 0;
    for (let i = 0; i < 5; i++) {
      client.write(`line ${i}\r\n`);
      stalled = Date.now();
      await sleep(150);
    }
    const reply = await client.reply();
    expect(reply.text).toBe(
      '421 4.4.2 mx.test.example Timeout waiting for the rest of the message, closing connection',
    );
    expect(Date.now() - stalled).toBeGreaterThanOrEqual(250);
    await client.closed;
    await until(async () => (await t.files('tmp')).length === 0);
    expect(await t.files('raw')).toEqual([]);
  });

  it.each([
    ['greetingTimeoutMs', 'the first command', async (_c: RawSmtpClient): Promise<void> => {}],
    [
      'mailTimeoutMs',
      'a command after MAIL',
      async (c: RawSmtpClient): Promise<void> => {
        await expectCode(c.command('EHLO client.test'), 250);
        await expectCode(c.command('MAIL FROM:<a@elsewhere.test>'), 250);
      },
    ],
    [
      'rcptTimeoutMs',
      'a command after RCPT',
      async (c: RawSmtpClient): Promise<void> => {
        await expectCode(c.command('EHLO client.test'), 250);
        await expectCode(c.command('MAIL FROM:<a@elsewhere.test>'), 250);
        await expectCode(c.command('RCPT TO:<support@example.com>'), 250);
      },
    ],
    [
      'dataInitiationTimeoutMs',
      'the message after 354',
      async (c: RawSmtpClient): Promise<void> => {
        await expectCode(c.command('EHLO client.test'), 250);
        await expectCode(c.command('MAIL FROM:<a@elsewhere.test>'), 250);
        await expectCode(c.command('RCPT TO:<support@example.com>'), 250);
        await expectCode(c.command('DATA'), 354);
      },
    ],
    [
      'socketTimeoutMs',
      'a command',
      async (c: RawSmtpClient): Promise<void> => void (await c.command('EHLO client.test')),
    ],
  ] as const)('%s: 421 4.4.2 waiting for %s', async (option, what, steps) => {
    const t = await start({
      greetingTimeoutMs: 5_000,
      mailTimeoutMs: 5_000,
      rcptTimeoutMs: 5_000,
      dataInitiationTimeoutMs: 5_000,
      socketTimeoutMs: 5_000,
      [option]: 250,
    });
    const { client } = await connect(t.port);
    await steps(client);
    const started = Date.now();
    expect((await client.reply()).text).toBe(
      `421 4.4.2 mx.test.example Timeout waiting for ${what}, closing connection`,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
    await client.closed;
  });

  it('answers 451 4.3.0 when storing takes longer than dataTerminationTimeoutMs, and aborts accept()', async () => {
    let signal: AbortSignal | undefined;
    const t = await start(
      { dataTerminationTimeoutMs: 300 },
      {
        async accept(input) {
          signal = input.signal;
          for await (const _ of input.body);
          await new Promise((r) => setTimeout(r, 5_000)); // a store that hangs
          return { id: 'never' };
        },
      },
    );
    const client = await open(t.port);
    const started = Date.now();
    const reply = await client.send('a@elsewhere.test', ['support@example.com'], MESSAGE);
    expect(reply.text).toBe('451 4.3.0 Timed out storing the message, try again later');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(signal?.aborted).toBe(true);
    expect((await client.command('NOOP')).code).toBe(250);
  });
});

describe('SMTP limits: options and helpers', () => {
  it('resolveConfig fills in the same defaults as the ingress', () => {
    const config = resolveConfig({ domains: ['example.com'], routes: [] });
    expect(config.smtp).toEqual(smtpDefaults);
  });

  it('validates the limit options', () => {
    const bad = () =>
      resolveConfig({
        domains: ['example.com'],
        routes: [],
        smtp: { limitExemptIps: ['10.0.0.0/33', 'localhost'], maxCommandLineBytes: 100, maxClients: 0 },
      });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/smtp\.limitExemptIps\[0\]: must be an IP address or a CIDR range/);
    expect(bad).toThrow(/smtp\.limitExemptIps\[1\]/);
    expect(bad).toThrow(/smtp\.maxCommandLineBytes: must be at least 512/);
    expect(bad).toThrow(/smtp\.maxClients/);
  });

  it('counts IPv4 addresses alone and IPv6 addresses by /64', () => {
    expect(clientKey('192.0.2.1')).toBe('192.0.2.1');
    expect(clientKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(clientKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2::ff')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
    const exempt = addressMatcher(['127.0.0.1', '::1', '10.0.0.0/8', '2001:db8::/32']);
    expect(['127.0.0.1', '::1', '10.1.2.3', '::ffff:10.0.0.1', '2001:db8:5::1'].map(exempt)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['192.0.2.1', '2001:db9::1', 'nonsense'].map(exempt)).toEqual([false, false, false]);
  });

  it('WindowCounter counts per window and forgets old keys', () => {
    const counter = new WindowCounter(1000);
    expect([1, 2, 3].map(() => counter.hit('a', 0))).toEqual([1, 2, 3]);
    expect(counter.hit('b', 500)).toBe(1);
    expect(counter.hit('a', 999)).toBe(4);
    expect(counter.hit('a', 1000)).toBe(1);
    expect(counter.hit('c', 1600)).toBe(1); // b's window is over: dropped
    expect(counter.size).toBe(2);
  });
});
