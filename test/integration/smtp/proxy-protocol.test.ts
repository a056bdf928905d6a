import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROXY_V2_SIGNATURE, parseProxyHeader } from '../../../lib/smtp/proxy-protocol.ts';
import { expectCode, RawSmtpClient, startTestIngress, type TestIngress } from './helpers.ts';

const message = 'From: a@sender.test\r\nSubject: via proxy\r\n\r\nhi\r\n.\r\n';

function v2(
  family: 0x11 | 0x21,
  src: number[],
  dst: number[],
  sport: number,
  dport: number,
  tlv = 0,
): Buffer {
  const addresses = Buffer.from([...src, ...dst]);
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(sport, 0);
  ports.writeUInt16BE(dport, 2);
  const block = Buffer.concat([addresses, ports, Buffer.alloc(tlv, 0)]);
  const head = Buffer.alloc(4);
  head[0] = 0x21; // version 2, PROXY
  head[1] = family;
  head.writeUInt16BE(block.length, 2);
  return Buffer.concat([PROXY_V2_SIGNATURE, head, block]);
}

async function sendThrough(t: TestIngress, preface: string | Buffer): Promise<string> {
  const { client, greeting } = await RawSmtpClient.connect(t.port, preface);
  expect(greeting.code).toBe(220);
  await expectCode(client.command('EHLO relay.client.test'), 250);
  const reply = await client.send('a@sender.test', ['support@example.com'], message);
  expect(reply.code).toBe(250);
  client.close();
  return (await t.store.get(t.accepted.at(-1)!.id)).toString('latin1');
}

describe('PROXY protocol from a trusted proxy', () => {
  let t: TestIngress;
  beforeAll(async () => {
    t = await startTestIngress({
      smtp: { proxyProtocol: { trustedProxies: ['127.0.0.0/8'], timeoutMs: 300 } },
    });
  });
  afterAll(() => t.stop());

  it('v1: the Received header and the envelope show the real client address', async () => {
    const raw = await sendThrough(t, 'PROXY TCP4 203.0.113.7 192.0.2.1 40000 25\r\n');
    expect(raw).toMatch(/^Received: from relay\.client\.test \(\[203\.0\.113\.7\]\)/);
    expect(t.accepted.at(-1)!.envelope.remoteAddress).toBe('203.0.113.7');
  });

  it('v2 over IPv4 (with TLVs) and IPv6', async () => {
    const raw4 = await sendThrough(t, v2(0x11, [198, 51, 100, 9], [192, 0, 2, 1], 50000, 25, 7));
    expect(raw4).toMatch(/^Received: from relay\.client\.test \(\[198\.51\.100\.9\]\)/);
    const src6 = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42];
    const raw6 = await sendThrough(t, v2(0x21, src6, new Array(16).fill(0), 50001, 25));
    expect(raw6).toMatch(/^Received: from relay\.client\.test \(\[IPv6:2001:db8::42\]\)/);
  });

  it('closes a trusted connection without a header, with a bad one, or with a late one', async () => {
    for (const preface of ['EHLO sneaky.test\r\n', 'PROXY TCP4 not-an-ip 192.0.2.1 1 25\r\n', undefined]) {
      const socket = connect(t.port, '127.0.0.1');
      let received = '';
      socket.on('data', (d) => {
        received += d.toString('latin1');
      });
      socket.on('error', () => {});
      await new Promise((r) => socket.once('connect', r));
      if (preface) socket.write(preface);
      await new Promise((r) => socket.once('close', r));
      expect(received).not.toMatch(/^220/);
    }
  });
});

describe('PROXY header from an untrusted peer', () => {
  let t: TestIngress;
  beforeAll(async () => {
    t = await startTestIngress({ smtp: { proxyProtocol: { trustedProxies: ['10.0.0.1'] } } });
  });
  afterAll(() => t.stop());

  it('v1 and v2 headers are refused 421 and the connection closed; plain SMTP works', async () => {
    for (const header of [
      'PROXY TCP4 203.0.113.7 192.0.2.1 40000 25\r\n',
      v2(0x11, [203, 0, 113, 7], [192, 0, 2, 1], 40000, 25),
    ]) {
      const { client, greeting } = await RawSmtpClient.connect(t.port);
      expect(greeting.code).toBe(220);
      client.write(header);
      const reply = await client.reply();
      expect(reply.text).toMatch(/^421 4\.7\.0 PROXY header not accepted/);
      await client.closed;
    }
    const { client } = await RawSmtpClient.open(t.port);
    expect((await client.send('a@sender.test', ['support@example.com'], message)).code).toBe(250);
    client.close();
    expect(t.accepted.at(-1)!.envelope.remoteAddress).toMatch(/127\.0\.0\.1$/);
  });
});

describe('parseProxyHeader', () => {
  it('parses, waits for more bytes, and refuses what is not a header', () => {
    expect(parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\nEHLO'))).toEqual({
      header: { version: 1, client: { address: '2001:db8::1', port: 1 } },
      length: 40,
    });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))?.header.client).toBeNull();
    expect(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4'))).toBeNull();
    expect(parseProxyHeader(v2(0x11, [1, 2, 3, 4], [5, 6, 7, 8], 1, 2).subarray(0, 20))).toBeNull();
    expect(() => parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 99999 2\r\n'))).toThrow(
      /malformed/,
    );
    expect(() => parseProxyHeader(Buffer.from(`PROXY ${'x'.repeat(200)}`))).toThrow(/too long/);
    expect(() => parseProxyHeader(Buffer.from('HELO x\r\n'))).toThrow(/expected/);
    const udp = v2(0x11, [1, 2, 3, 4], [5, 6, 7, 8], 1, 2);
    udp[13] = 0x12;
    expect(() => parseProxyHeader(udp)).toThrow(/unsupported protocol/);
    const huge = v2(0x11, [1, 2, 3, 4], [5, 6, 7, 8], 1, 2);
    huge.writeUInt16BE(60_000, 14);
    expect(() => parseProxyHeader(huge)).toThrow(/too long/);
    const local = v2(0x11, [1, 2, 3, 4], [5, 6, 7, 8], 1, 2);
    local[12] = 0x20;
    expect(parseProxyHeader(local)?.header.client).toBeNull();
  });
});
