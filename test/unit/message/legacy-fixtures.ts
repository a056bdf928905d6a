/**
 * Writers for the legacy encodings, used to build test messages the way real clients send them
 * (uuencode as old Usenet/mailing-list clients wrote it, BinHex 4.0 as Mac mailers did, TNEF as Outlook
 * does). Written from the format descriptions, only as far as the tests need.
 */
import { crc16 } from '../../../lib/message/binhex.ts';

/** uuencodes `data` as `begin <mode> <name>` … `` ` `` … `end`, 45 bytes a line. */
export function uuencode(
  name: string,
  data: Buffer,
  options: { zero?: '`' | ' '; mode?: string } = {},
): string {
  const zero = options.zero ?? '`';
  const char = (v: number) => (v === 0 ? zero : String.fromCharCode(v + 0x20));
  const out = [`begin ${options.mode ?? '644'} ${name}`];
  for (let at = 0; at < data.length; at += 45) {
    const line = data.subarray(at, at + 45);
    let text = char(line.length);
    for (let g = 0; g < line.length; g += 3) {
      const v = ((line[g] ?? 0) << 16) | ((line[g + 1] ?? 0) << 8) | (line[g + 2] ?? 0);
      text += char((v >> 18) & 63) + char((v >> 12) & 63) + char((v >> 6) & 63) + char(v & 63);
    }
    out.push(text);
  }
  out.push(zero, 'end');
  return out.join('\n');
}

const HQX = '!"#$%&\'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr';

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** Run-length encodes with 0x90 (runs of 4 or more; a literal 0x90 as `90 00`). */
function rle(data: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < data.length; ) {
    const b = data[i]!;
    let run = 1;
    while (i + run < data.length && data[i + run] === b && run < 255) run++;
    if (b === 0x90) {
      out.push(0x90, 0x00);
      i++;
    } else if (run >= 4) {
      out.push(b, 0x90, run);
      i += run;
    } else {
      out.push(b);
      i++;
    }
  }
  return Buffer.from(out);
}

/** A BinHex 4.0 text of a file with `data` as its data fork (no resource fork). */
export function binhex(name: string, data: Buffer, options: { breakDataCrc?: boolean } = {}): string {
  const header = Buffer.concat([
    Buffer.from([name.length]),
    Buffer.from(name, 'latin1'),
    Buffer.from([0]),
    Buffer.from('TEXTttxt', 'latin1'),
    u16(0),
    u32(data.length),
    u32(0),
  ]);
  const dataCrc = crc16(data) ^ (options.breakDataCrc ? 1 : 0);
  const stream = rle(Buffer.concat([header, u16(crc16(header)), data, u16(dataCrc), u16(0)]));
  let text = '';
  for (let i = 0; i < stream.length; i += 3) {
    const v = ((stream[i] ?? 0) << 16) | ((stream[i + 1] ?? 0) << 8) | (stream[i + 2] ?? 0);
    const chars = Math.min(4, Math.ceil(((stream.length - i) * 8) / 6));
    for (let k = 0; k < chars; k++) text += HQX[(v >> (18 - 6 * k)) & 63];
  }
  const lines = text.match(/.{1,64}/g) ?? [];
  return `(This file must be converted with BinHex 4.0)\n:${lines.join('\n')}:\n`;
}

interface TnefFile {
  title: string;
  data: Buffer;
  longName?: string;
  mimeTag?: string;
}

function attribute(level: number, id: number, data: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head[0] = level;
  head.writeUInt32LE(id, 1);
  head.writeUInt32LE(data.length, 5);
  let sum = 0;
  for (const b of data) sum = (sum + b) & 0xffff;
  const tail = Buffer.alloc(2);
  tail.writeUInt16LE(sum);
  return Buffer.concat([head, data, tail]);
}

/** A MAPI property list with PT_UNICODE values (and a leading PT_LONG, as Outlook writes many). */
function properties(values: Array<[id: number, text: string]>): Buffer {
  const parts: Buffer[] = [];
  const le32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  parts.push(le32(values.length + 1));
  parts.push(Buffer.from([0x03, 0x00, 0x05, 0x37]), le32(1)); // PR_ATTACH_METHOD (PT_LONG) = 1
  for (const [id, text] of values) {
    const value = Buffer.from(`${text}\0`, 'utf16le');
    const head = Buffer.alloc(4);
    head.writeUInt16LE(0x001f, 0);
    head.writeUInt16LE(id, 2);
    parts.push(head, le32(1), le32(value.length), value, Buffer.alloc((4 - (value.length % 4)) % 4));
  }
  return Buffer.concat(parts);
}

/** A TNEF stream as Outlook sends it in winmail.dat: message attributes, then each attachment. */
export function tnef(files: TnefFile[]): Buffer {
  const sig = Buffer.alloc(6);
  sig.writeUInt32LE(0x223e9f78);
  sig.writeUInt16LE(0x0001, 4);
  const parts = [
    sig,
    attribute(1, 0x00089006, Buffer.from([0, 0, 1, 0])), // attTnefVersion
    attribute(1, 0x00069007, Buffer.from([0xe4, 0x04, 0, 0, 0, 0, 0, 0])), // attOemCodepage 1252
    attribute(1, 0x00078008, Buffer.from('IPM.Microsoft Mail.Note\0', 'latin1')), // attMessageClass
  ];
  for (const file of files) {
    parts.push(attribute(2, 0x00069002, Buffer.alloc(14))); // attAttachRendData
    parts.push(attribute(2, 0x00018010, Buffer.from(`${file.title}\0`, 'latin1'))); // attAttachTitle
    parts.push(attribute(2, 0x0006800f, file.data)); // attAttachData
    const props: Array<[number, string]> = [];
    if (file.longName) props.push([0x3707, file.longName]);
    if (file.mimeTag) props.push([0x370e, file.mimeTag]);
    parts.push(attribute(2, 0x00069005, properties(props))); // attAttachment
  }
  return Buffer.concat(parts);
}

/** A multipart/mixed message of a text part and the given parts (each its headers and body). */
export function mixed(
  text: string,
  parts: Array<{ headers: string[]; body: string }>,
  top: string[] = [],
): Buffer {
  const lines = [
    'From: Ada <ada@sender.test>',
    'To: support@example.com',
    'Subject: files',
    'Date: Mon, 7 Dec 2026 10:00:00 +0000',
    'Message-ID: <legacy@sender.test>',
    'MIME-Version: 1.0',
    ...top,
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    text,
  ];
  for (const part of parts) lines.push('--b1', ...part.headers, '', part.body);
  lines.push('--b1--', '');
  return Buffer.from(lines.join('\n').replace(/\r?\n/g, '\r\n'), 'latin1');
}
