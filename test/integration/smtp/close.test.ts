import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { expectCode, RawSmtpClient, startTestIngress, type TestIngress } from './helpers.ts';

let running: TestIngress | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function until(check: () => Promise<boolean>, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(10);
  }
}

function refused(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

describe('SMTP ingress: graceful close', () => {
  it('answers 421 to an idle session at once and refuses new connections', async () => {
    running = await startTestIngress({ smtp: { closeTimeoutMs: 10_000 } });
    const { client } = await RawSmtpClient.open(running.port);
    const started = Date.now();
    const closed = running.ingress.close();
    expect((await client.reply()).text).toBe('421 4.3.2 Server shutting down');
    await client.closed;
    await closed;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await refused(running.port)).toBe('ECONNREFUSED');
  });

  it('lets a DATA in progress finish, replies 250, then 421', async () => {
    running = await startTestIngress({ smtp: { closeTimeoutMs: 10_000 } });
    const { client } = await RawSmtpClient.open(running.port);
    await expectCode(client.command('MAIL FROM:<a@elsewhere.test>'), 250);
    await expectCode(client.command('RCPT TO:<support@example.com>'), 250);
    await expectCode(client.command('DATA'), 354);
    client.write('Subject: in flight\r\n\r\nfirst half\r\n');
    await sleep(50);
    const closed = running.ingress.close();
    await sleep(200);
    client.write('second half\r\n.\r\n');
    expect((await client.reply()).text).toMatch(/^250 2\.0\.0 Ok: queued as /);
    expect((await client.reply()).text).toBe('421 4.3.2 Server shutting down');
    await client.closed;
    await closed;
    const [id] = await running.store.list();
    expect((await running.store.get(id!)).toString()).toMatch(/first half\r\nsecond half\r\n$/);
  });

  it('cuts a DATA that takes longer than closeTimeoutMs with 421 and keeps nothing of it', async () => {
    running = await startTestIngress({ smtp: { closeTimeoutMs: 300 } });
    const t = running;
    const { client } = await RawSmtpClient.open(t.port);
    await expectCode(client.command('MAIL FROM:<a@elsewhere.test>'), 250);
    await expectCode(client.command('RCPT TO:<support@example.com>'), 250);
    await expectCode(client.command('DATA'), 354);
    client.write('Subject: slow\r\n\r\nnever finished\r\n');
    await sleep(50);
    const started = Date.now();
    const closed = t.ingress.close();
    expect((await client.reply()).text).toMatch(/^421 /);
    await client.closed;
    await closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await until(async () => (await t.files('tmp')).length === 0);
    expect(await t.files('raw')).toEqual([]);
  });

  it('survives clients that reset the connection mid-message', async () => {
    running = await startTestIngress();
    const t = running;
    for (let i = 0; i < 5; i++) {
      const { client } = await RawSmtpClient.open(t.port);
      await expectCode(client.command('MAIL FROM:<a@elsewhere.test>'), 250);
      await expectCode(client.command('RCPT TO:<support@example.com>'), 250);
      await expectCode(client.command('DATA'), 354);
      client.write(`Subject: cut\r\n\r\n${'z'.repeat(50_000)}`);
      await sleep(20);
      client.socket.resetAndDestroy();
    }
    await until(async () => (await t.files('tmp')).length === 0);
    expect(await t.files('raw')).toEqual([]);
    const { client } = await RawSmtpClient.open(t.port);
    const reply = await client.send(
      'a@elsewhere.test',
      ['support@example.com'],
      'Subject: ok\r\n\r\nfine\r\n.\r\n',
    );
    expect(reply.code).toBe(250);
    client.close();
  });
});
