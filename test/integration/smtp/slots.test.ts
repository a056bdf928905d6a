import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { SmtpOptions } from '../../../lib/config/types.ts';
import { networkKey } from '../../../lib/smtp/limits.ts';
import { expectCode, RawSmtpClient, startTestIngress, type TestIngress } from './helpers.ts';

/**
 * Connection slots cannot be held (issue 9): shares per address and per network, idle sessions closed
 * first under pressure, a minimum DATA rate, a session lifetime, and command timeouts a byte trickle
 * cannot extend. Clients come from 127.x.y.z addresses (all loopback on Linux); nothing here is exempt.
 */
let running: TestIngress | undefined;
const clients: RawSmtpClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await running?.stop();
  running = undefined;
});

async function start(smtp: Partial<SmtpOptions>, opts: Parameters<typeof startTestIngress>[0] = {}) {
  running = await startTestIngress({ ...opts, smtp: { limitExemptIps: [], ...smtp } });
  return running;
}

async function connectFrom(port: number, address: string) {
  const result = await RawSmtpClient.connect(port, undefined, address);
  clients.push(result.client);
  return result;
}

async function openFrom(port: number, address: string) {
  const result = await RawSmtpClient.open(port, 'client.test', address);
  clients.push(result.client);
  return result.client;
}

describe('SMTP slots', () => {
  it('shares: per address and per /24; another network still gets in', async () => {
    const t = await start({ maxClientsPerIp: 2, maxClientsPerNetwork: 3 });
    expect((await connectFrom(t.port, '127.0.5.1')).greeting.code).toBe(220);
    expect((await connectFrom(t.port, '127.0.5.1')).greeting.code).toBe(220);
    const third = await connectFrom(t.port, '127.0.5.1');
    expect(third.greeting.text).toMatch(/^421 4\.7\.0 .*Too many connections from your address/);
    expect((await connectFrom(t.port, '127.0.5.2')).greeting.code).toBe(220);
    const network = await connectFrom(t.port, '127.0.5.3');
    expect(network.greeting.text).toMatch(/^421 4\.7\.0 .*Too many connections from your network/);
    expect((await connectFrom(t.port, '127.0.6.1')).greeting.code).toBe(220);
  });

  it('networkKey: IPv4 /24, IPv6 /48, IPv4-mapped IPv6 as IPv4', () => {
    expect(networkKey('192.0.2.77')).toBe('192.0.2.0/24');
    expect(networkKey('::ffff:192.0.2.77')).toBe('192.0.2.0/24');
    expect(networkKey('2001:db8:abcd:12::1')).toBe('2001:db8:abcd::/48');
    expect(networkKey('2001:db8:abcd::')).toBe('2001:db8:abcd::/48');
  });

  it('under pressure the session idle longest is closed to make room; one in DATA never is', async () => {
    const t = await start({ maxClients: 3, evictIdleAfterMs: 300 });
    const inData = await openFrom(t.port, '127.0.7.1');
    await expectCode(inData.command('MAIL FROM:<a@sender.test>'), 250);
    await expectCode(inData.command('RCPT TO:<support@example.com>'), 250);
    await expectCode(inData.command('DATA'), 354);
    const idlest = await openFrom(t.port, '127.0.8.1');
    await sleep(50);
    const recent = await openFrom(t.port, '127.0.9.1');
    await sleep(400);
    const { greeting } = await connectFrom(t.port, '127.0.10.1');
    expect(greeting.code).toBe(220);
    expect((await idlest.reply()).text).toBe('421 4.7.0 Server busy, closing idle connection');
    await idlest.closed;
    expect(recent.ended).toBe(false);
    // The DATA goes on and is accepted.
    inData.write('Subject: still here\r\n\r\nhello\r\n.\r\n');
    expect((await inData.reply()).code).toBe(250);
  });

  it('with every slot busy and nobody idle long enough, the newcomer is refused', async () => {
    const t = await start({ maxClients: 2, evictIdleAfterMs: 60_000 });
    await openFrom(t.port, '127.0.7.1');
    await openFrom(t.port, '127.0.8.1');
    const { greeting } = await connectFrom(t.port, '127.0.9.1');
    expect(greeting.text).toMatch(/^421 4\.7\.0 .*Too many connections/);
  });

  it('a DATA slower than minDataRateBytesPerSecond is cut with 421 4.4.2; nothing is stored', async () => {
    const t = await start({ minDataRateBytesPerSecond: 1000, dataRateGraceMs: 300 });
    const client = await openFrom(t.port, '127.0.7.1');
    await expectCode(client.command('MAIL FROM:<a@sender.test>'), 250);
    await expectCode(client.command('RCPT TO:<support@example.com>'), 250);
    await expectCode(client.command('DATA'), 354);
    const drip = setInterval(() => client.write('x'), 100);
    try {
      const reply = await client.reply();
      expect(reply.text).toBe(
        '421 4.4.2 Message data arriving too slowly (under 1000 bytes/s), closing connection',
      );
    } finally {
      clearInterval(drip);
    }
    await client.closed;
    expect(t.accepted).toEqual([]);
  });

  it('time the store takes never counts against the sender’s data rate', async () => {
    const t = await start(
      { minDataRateBytesPerSecond: 1_000_000, dataRateGraceMs: 200 },
      {
        async accept(input, store) {
          await sleep(1500); // a slow store: the message waits, unread
          const { withPrefix } = await import('./helpers.ts');
          await store.put('slow-store-message', withPrefix(input));
          return { id: 'slow-store-message' };
        },
      },
    );
    const client = await openFrom(t.port, '127.0.7.1');
    const reply = await client.send(
      'a@sender.test',
      ['support@example.com'],
      `Subject: big\r\n\r\n${'y'.repeat(300_000)}\r\n.\r\n`,
    );
    expect(reply.text).toMatch(/^250 2\.0\.0 Ok: queued as slow-store-message/);
  });

  it('a command trickled one byte at a time does not extend its timeout', async () => {
    const t = await start({ socketTimeoutMs: 1000, greetingTimeoutMs: 1000 });
    const client = await openFrom(t.port, '127.0.7.1');
    const drip = setInterval(() => client.write('N'), 150);
    try {
      expect((await client.reply()).text).toBe('421 4.4.2 Timeout waiting for a command, closing connection');
    } finally {
      clearInterval(drip);
    }
  });

  it('a session past maxSessionMs is closed at its next wait for a command', async () => {
    const t = await start({ maxSessionMs: 1200 });
    const client = await openFrom(t.port, '127.0.7.1');
    let last = 250;
    for (let i = 0; i < 40 && last === 250; i++) {
      await sleep(100);
      last = (await client.command('NOOP')).code;
    }
    expect(last).toBe(421);
    await client.closed;
  });
});
