import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

/*
 * A tiny DNS server on loopback (UDP), so the production resolver's real c-ares path is exercised without
 * touching real DNS.
 */

/** The answer to `"<TYPE> <name>"`: an rcode with TXT/A records, or no reply at all. */
export type TinyDnsAnswer = { rcode: number; txt?: string[]; a?: string[] } | 'silent';

export interface TinyDns {
  /** For `createSystemResolver({ servers })`. */
  servers: string[];
  /** Every question received, as `"<TYPE> <name>"`. */
  asked: string[];
  close(): void;
}

const TYPES: Record<number, string> = { 1: 'A', 15: 'MX', 16: 'TXT', 28: 'AAAA', 12: 'PTR' };

/** Starts a server answering from `answers`; other questions get NXDOMAIN. */
export async function startTinyDns(answers: Record<string, TinyDnsAnswer>): Promise<TinyDns> {
  const server = createSocket('udp4');
  const asked: string[] = [];
  server.on('message', (msg, rinfo) => {
    const reply = respond(msg, answers, asked);
    if (reply) server.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  return {
    servers: [`127.0.0.1:${(server.address() as AddressInfo).port}`],
    asked,
    close: () => server.close(),
  };
}

function readName(msg: Buffer, start: number): { name: string; end: number } {
  const labels: string[] = [];
  let pos = start;
  while (msg[pos]! > 0) {
    labels.push(msg.toString('latin1', pos + 1, pos + 1 + msg[pos]!));
    pos += 1 + msg[pos]!;
  }
  return { name: labels.join('.').toLowerCase(), end: pos + 1 };
}

function respond(query: Buffer, answers: Record<string, TinyDnsAnswer>, asked: string[]): Buffer | null {
  const { name, end } = readName(query, 12);
  const qtype = query.readUInt16BE(end);
  const question = `${TYPES[qtype]} ${name}`;
  asked.push(question);
  const answer = answers[question] ?? { rcode: 3 };
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
