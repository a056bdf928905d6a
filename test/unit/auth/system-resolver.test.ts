import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateMessage, createSystemResolver, DnsError } from '../../../lib/auth/index.ts';

/*
 * A tiny DNS server on loopback (UDP), so the production resolver's real c-ares path is exercised without
 * touching real DNS.
 */
type Answer = { rcode: number; txt?: string[]; a?: string[] } | 'silent';

const ANSWERS: Record<string, Answer> = {
  'TXT example.com': { rcode: 0, txt: ['v=spf1 ip4:192.0.2.0/24 -all'] },
  'TXT _dmarc.example.com': { rcode: 0, txt: ['v=DMARC1; p=reject'] },
  'A example.com': { rcode: 0, a: ['192.0.2.1'] },
  'TXT empty.example.com': { rcode: 0 },
  'TXT broken.example.com': { rcode: 2 },
  'TXT refused.example.com': { rcode: 5 },
  'TXT slow.example.com': 'silent',
};
const TYPES: Record<number, string> = { 1: 'A', 15: 'MX', 16: 'TXT', 28: 'AAAA', 12: 'PTR' };

let server: Socket;
let servers: string[];

function readName(msg: Buffer, start: number): { name: string; end: number } {
  const labels: string[] = [];
  let pos = start;
  while (msg[pos]! > 0) {
    labels.push(msg.toString('latin1', pos + 1, pos + 1 + msg[pos]!));
    pos += 1 + msg[pos]!;
  }
  return { name: labels.join('.').toLowerCase(), end: pos + 1 };
}

function respond(query: Buffer): Buffer | null {
  const { name, end } = readName(query, 12);
  const qtype = query.readUInt16BE(end);
  const answer = ANSWERS[`${TYPES[qtype]} ${name}`] ?? { rcode: 3 };
  if (answer === 'silent') return null;
  const records: Buffer[] = [];
  for (const text of answer.txt ?? []) {
    const rdata = Buffer.concat([Buffer.from([text.length]), Buffer.from(text, 'latin1')]);
    records.push(record(16, rdata));
  }
  for (const ip of answer.a ?? []) records.push(record(1, Buffer.from(ip.split('.').map(Number))));
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  header.writeUInt16BE(0x8180 | answer.rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  return Buffer.concat([header, query.subarray(12, end + 4), ...records]);
}

function record(type: number, rdata: Buffer): Buffer {
  const fixed = Buffer.alloc(12);
  fixed.writeUInt16BE(0xc00c, 0);
  fixed.writeUInt16BE(type, 2);
  fixed.writeUInt16BE(1, 4);
  fixed.writeUInt32BE(60, 6);
  fixed.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([fixed, rdata]);
}

beforeAll(async () => {
  server = createSocket('udp4');
  server.on('message', (msg, rinfo) => {
    const reply = respond(msg);
    if (reply) server.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  servers = [`127.0.0.1:${(server.address() as AddressInfo).port}`];
});

afterAll(() => {
  server.close();
});

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (err) {
    expect(err).toBeInstanceOf(DnsError);
    return (err as DnsError).code;
  }
}

describe('createSystemResolver', () => {
  it('answers TXT and A in node:dns shapes', async () => {
    const resolve = createSystemResolver({ servers, timeoutMs: 2000 });
    expect(await resolve('example.com', 'TXT')).toEqual([['v=spf1 ip4:192.0.2.0/24 -all']]);
    expect(await resolve('example.com', 'A')).toEqual(['192.0.2.1']);
  });

  it('gives the error codes mailauth reads', async () => {
    const resolve = createSystemResolver({ servers, timeoutMs: 2000, tries: 1 });
    expect(await code(resolve('nowhere.example.com', 'TXT'))).toBe('ENOTFOUND');
    expect(await code(resolve('empty.example.com', 'TXT'))).toBe('ENODATA');
    expect(await code(resolve('broken.example.com', 'TXT'))).toBe('ESERVFAIL');
    expect(await code(resolve('refused.example.com', 'TXT'))).toBe('EREFUSED');
    expect(await code(resolve('example.com', 'SRVX'))).toBe('ENODATA');
  });

  it('bounds every question by timeoutMs', async () => {
    const resolve = createSystemResolver({ servers, timeoutMs: 300, tries: 1 });
    const started = Date.now();
    expect(await code(resolve('slow.example.com', 'TXT'))).toBe('ETIMEOUT');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('drives authenticateMessage', async () => {
    const v = await authenticateMessage(Buffer.from('From: a@example.com\r\n\r\nhi\r\n'), {
      ip: '192.0.2.7',
      helo: 'mail.example.com',
      mailFrom: 'a@example.com',
      resolver: createSystemResolver({ servers, timeoutMs: 2000 }),
      authservId: 'mx.mailroom.test',
    });
    expect(v.spf.result).toBe('pass');
    expect(v.dmarc).toMatchObject({ result: 'pass', policy: 'reject' });
  });
});
