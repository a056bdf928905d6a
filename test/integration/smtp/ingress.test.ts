import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { expectCode, RawSmtpClient, startTestIngress, type TestIngress } from './helpers.ts';

/** SMTP transparency (RFC 5321 §4.5.2): a line that starts with '.' gets one more. */
function dotStuff(message: Buffer): Buffer {
  const text = message.toString('latin1');
  const stuffed = text.replace(/(^|\n)\./g, '$1..');
  return Buffer.from(`${stuffed}.\r\n`, 'latin1');
}

let running: TestIngress | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function start(opts?: Parameters<typeof startTestIngress>[0]): Promise<TestIngress> {
  running = await startTestIngress(opts);
  return running;
}

function splitStored(stored: Buffer): { prefix: string; rest: Buffer } {
  const end = stored.indexOf('\r\n', stored.indexOf('\r\n\tfor ') + 1);
  const prefixEnd = end < 0 ? -1 : end + 2;
  return { prefix: stored.subarray(0, prefixEnd).toString('utf8'), rest: stored.subarray(prefixEnd) };
}

describe('SMTP ingress: accepting', () => {
  it('greets with the hostname and advertises SIZE, ENHANCEDSTATUSCODES, PIPELINING, no AUTH/STARTTLS', async () => {
    const t = await start();
    const { client, greeting } = await RawSmtpClient.connect(t.port);
    expect(greeting.text).toMatch(/^220 mx\.test\.example ESMTP/);
    const ehlo = await client.command('EHLO client.test');
    expect(ehlo.code).toBe(250);
    expect(ehlo.lines).toContain('250 SIZE 1048576');
    expect(ehlo.text).toMatch(/ENHANCEDSTATUSCODES/);
    expect(ehlo.text).toMatch(/PIPELINING/);
    expect(ehlo.text).not.toMatch(/AUTH|STARTTLS/);
    expect((await client.command('AUTH PLAIN AGJvYgBzZWNyZXQ=')).code).toBeGreaterThanOrEqual(500);
    expect((await client.command('STARTTLS')).code).toBeGreaterThanOrEqual(500);
    client.close();
  });

  it('stores the message byte-exact behind a Received header, dot-stuffing undone', async () => {
    const t = await start();
    const messages = [
      Buffer.from(
        'From: Sender <sender@elsewhere.test>\r\nTo: support@example.com\r\nSubject: dots\r\n\r\n' +
          '.leading dot\r\n..two dots\r\n.\r\n...\r\nmiddle . dot\r\n\xe4 8bit \xff\r\n. \r\nlast\r\n',
        'latin1',
      ),
      Buffer.from('.starts with a dot\r\n\r\nbody\r\n', 'latin1'),
      // Big enough to cross many socket chunks and store writes, with dots at every line start.
      Buffer.from(
        Array.from(
          { length: 6000 },
          (_, i) => `${'.'.repeat(i % 3)}${randomBytes(30).toString('base64')}\r\n`,
        ).join(''),
        'latin1',
      ),
    ];
    const { client } = await RawSmtpClient.open(t.port);
    for (const message of messages) {
      const reply = await client.send('sender@elsewhere.test', ['support@example.com'], dotStuff(message));
      expect(reply.text).toMatch(/^250 2\.0\.0 Ok: queued as [0-9a-z]{26}$/);
      const id = reply.text.slice(reply.text.lastIndexOf(' ') + 1);
      await t.store.checkpoint();
      const stored = await readFile(join(t.dir, 'raw', `${id}.eml`));
      const { prefix, rest } = splitStored(stored);
      expect(prefix).toMatch(
        /^Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\tby mx\.test\.example with ESMTP id [\w.-]+\r\n\tfor <support@example\.com>; \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n$/,
      );
      expect(rest.equals(message)).toBe(true);
      expect((await t.store.get(id)).equals(stored)).toBe(true);
    }
    expect(await t.files('tmp')).toEqual([]);
    expect((await t.store.list()).length).toBe(3);
    expect(t.accepted[0]!.envelope).toMatchObject({
      mailFrom: 'sender@elsewhere.test',
      rcptTo: ['support@example.com'],
      remoteAddress: '127.0.0.1',
      helo: 'client.test',
    });
    await client.command('QUIT');
  });

  it('accepts mail through nodemailer', async () => {
    const t = await start();
    const transport = createTransport({
      host: '127.0.0.1',
      port: t.port,
      secure: false,
      ignoreTLS: true,
      tls: { rejectUnauthorized: false },
    });
    const info = await transport.sendMail({
      from: 'someone@elsewhere.test',
      to: 'support@example.com',
      bcc: 'postmaster@example.com',
      subject: 'Hello from nodemailer',
      text: 'Hi there\n.\nbye',
    });
    transport.close();
    expect(info.accepted).toEqual(['support@example.com', 'postmaster@example.com']);
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as [0-9a-z]{26}$/);
    const [id] = await t.store.list();
    const stored = (await t.store.get(id!)).toString('utf8');
    // Two recipients: no `for` clause (it would disclose the Bcc).
    expect(stored).toMatch(
      /^Received: from \S+ \(\[127\.0\.0\.1\]\)\r\n\tby mx\.test\.example with ESMTP id [\w.-]+; /,
    );
    expect(stored).not.toMatch(/^\tfor /m);
    expect(stored).toContain('Subject: Hello from nodemailer');
    expect(stored).toMatch(/\r\nHi there\r\n\.\r\nbye/);
    expect(t.accepted[0]!.envelope.rcptTo).toEqual(['support@example.com', 'postmaster@example.com']);
  });

  it('accepts the null sender MAIL FROM:<>', async () => {
    const t = await start();
    const { client } = await RawSmtpClient.open(t.port);
    expect((await client.command('MAIL FROM:<>')).text).toBe('250 2.1.0 Accepted');
    expect((await client.command('RCPT TO:<postmaster@example.com>')).text).toBe('250 2.1.5 Accepted');
    await expectCode(client.command('DATA'), 354);
    client.write('Subject: bounce\r\n\r\nreport\r\n.\r\n');
    expect((await client.reply()).text).toMatch(/^250 2\.0\.0 Ok: queued as /);
    expect(t.accepted[0]!.envelope.mailFrom).toBe('');
    client.close();
  });
});

describe('SMTP ingress: refusing', () => {
  it('refuses an unknown local recipient with 550 5.1.1 and a foreign domain with 550 5.7.1 at RCPT', async () => {
    const t = await start();
    const { client } = await RawSmtpClient.open(t.port);
    await expectCode(client.command('MAIL FROM:<a@elsewhere.test>'), 250);
    expect((await client.command('RCPT TO:<nobody@example.com>')).text).toBe('550 5.1.1 No such user here');
    expect((await client.command('RCPT TO:<someone@gmail.com>')).text).toBe('550 5.7.1 Relaying denied');
    // The transaction goes on with the recipients that were accepted.
    await expectCode(client.command('RCPT TO:<support@example.com>'), 250);
    await expectCode(client.command('DATA'), 354);
    client.write('Subject: x\r\n\r\ny\r\n.\r\n');
    await expectCode(client.reply(), 250);
    expect(t.accepted[0]!.envelope.rcptTo).toEqual(['support@example.com']);
    client.close();
  });

  it('refuses the same through nodemailer', async () => {
    const t = await start();
    const transport = createTransport({ host: '127.0.0.1', port: t.port, secure: false, ignoreTLS: true });
    const err = await transport
      .sendMail({ from: 'a@elsewhere.test', to: 'nobody@example.com', subject: 's', text: 't' })
      .catch((e: unknown) => e as { responseCode?: number; response?: string });
    transport.close();
    expect(err).toMatchObject({ responseCode: 550 });
    expect(err.response).toMatch(/^550 5\.1\.1 /);
    expect(await t.store.list()).toEqual([]);
  });

  it('answers 452 4.5.3 to the 101st recipient and keeps the first 100', async () => {
    const t = await start();
    const { client } = await RawSmtpClient.open(t.port);
    await expectCode(client.command('MAIL FROM:<a@elsewhere.test>'), 250);
    for (let i = 1; i <= 100; i++)
      await expectCode(client.command(`RCPT TO:<support+${i}@example.com>`), 250);
    expect((await client.command('RCPT TO:<support+101@example.com>')).text).toBe(
      '452 4.5.3 Too many recipients',
    );
    // A repeated recipient is not a new one.
    await expectCode(client.command('RCPT TO:<support+7@example.com>'), 250);
    await expectCode(client.command('DATA'), 354);
    client.write('Subject: many\r\n\r\nhi\r\n.\r\n');
    await expectCode(client.reply(), 250);
    expect(t.accepted[0]!.envelope.rcptTo).toHaveLength(100);
    expect(t.accepted[0]!.envelope.rcptTo.at(-1)).toBe('support+100@example.com');
    client.close();
  });

  it('refuses MAIL FROM with SIZE= above the limit with 552 5.3.4', async () => {
    const t = await start();
    const { client } = await RawSmtpClient.open(t.port);
    const reply = await client.command(`MAIL FROM:<a@elsewhere.test> SIZE=${1024 * 1024 + 1}`);
    expect(reply.text).toMatch(/^552 5\.3\.4 /);
    await expectCode(client.command(`MAIL FROM:<a@elsewhere.test> SIZE=${1024 * 1024}`), 250);
    client.close();
  });

  it('refuses a message over the limit with 552 5.3.4 at the end of DATA, stores nothing, session goes on', async () => {
    const t = await start({ smtp: { maxMessageBytes: 64 * 1024 } });
    const { client } = await RawSmtpClient.open(t.port);
    const line = `${'x'.repeat(998)}\r\n`;
    const reply = await client.send('a@elsewhere.test', ['support@example.com'], `${line.repeat(200)}.\r\n`);
    expect(reply.text).toBe('552 5.3.4 Message too big');
    expect(await t.files('raw')).toEqual([]);
    expect(await t.files('tmp')).toEqual([]);
    const next = await client.send(
      'a@elsewhere.test',
      ['support@example.com'],
      'Subject: small\r\n\r\nok\r\n.\r\n',
    );
    expect(next.code).toBe(250);
    expect(await t.files('raw')).toHaveLength(1);
    client.close();
  });
});

describe('SMTP ingress: storage failures', () => {
  it('answers 451 4.3.0 when accept() fails mid-message and leaves nothing in raw/ or tmp/', async () => {
    const t = await start({
      async accept(input, store) {
        let seen = 0;
        async function* failing() {
          yield input.prefix;
          for await (const chunk of input.body) {
            seen += chunk.length;
            if (seen > 10_000) throw new Error('simulated disk failure');
            yield chunk;
          }
        }
        await store.put('m1', failing());
        return { id: 'm1' };
      },
    });
    const { client } = await RawSmtpClient.open(t.port);
    const reply = await client.send(
      'a@elsewhere.test',
      ['support@example.com'],
      `${'y'.repeat(100)}\r\n`.repeat(1000) + '.\r\n',
    );
    expect(reply.text).toMatch(/^451 4\.3\.0 /);
    expect(await t.files('raw')).toEqual([]);
    expect(await t.files('tmp')).toEqual([]);
    client.close();
  });

  it('answers 451 4.3.0 when the store cannot write at all', async () => {
    const t = await start({ store: { journalMaxMessageBytes: 0 } });
    await t.store.put('warmup', Buffer.from('x'));
    const { rm } = await import('node:fs/promises');
    await rm(join(t.dir, 'tmp'), { recursive: true });
    const { client } = await RawSmtpClient.open(t.port);
    const reply = await client.send(
      'a@elsewhere.test',
      ['support@example.com'],
      'Subject: x\r\n\r\ny\r\n.\r\n',
    );
    expect(reply.text).toMatch(/^451 4\.3\.0 /);
    expect(await t.store.list()).toEqual(['warmup']);
    client.close();
  });
});
