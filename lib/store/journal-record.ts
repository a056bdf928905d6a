import { crc32 } from 'node:zlib';
import type { Envelope } from '../kernel/index.ts';

/**
 * One message in the ingest journal:
 *
 * ```
 * 'MRJ1' | u32 body length | u32 CRC-32 of body | u32 0   (16-byte header, big-endian)
 * body = u16 id length | u32 envelope length | id (ASCII) | envelope (JSON, UTF-8) | message bytes
 * ```
 *
 * A record whose header or checksum does not hold ends the readable part of a segment (a write torn by a
 * crash is never acknowledged, so nothing after it was either).
 */
export interface JournalRecord {
  id: string;
  envelope: Envelope | null;
  data: Buffer;
}

const MAGIC = 0x4d524a31; // 'MRJ1'
const HEADER = 16;

export function encodeJournalRecord(record: JournalRecord): Buffer {
  const id = Buffer.from(record.id, 'latin1');
  const env = record.envelope ? Buffer.from(JSON.stringify(record.envelope)) : Buffer.alloc(0);
  const meta = Buffer.alloc(6);
  meta.writeUInt16BE(id.length, 0);
  meta.writeUInt32BE(env.length, 2);
  const bodyLength = meta.length + id.length + env.length + record.data.length;
  let crc = crc32(meta);
  crc = crc32(id, crc);
  crc = crc32(env, crc);
  crc = crc32(record.data, crc);
  const header = Buffer.alloc(HEADER);
  header.writeUInt32BE(MAGIC, 0);
  header.writeUInt32BE(bodyLength, 4);
  header.writeUInt32BE(crc, 8);
  return Buffer.concat([header, meta, id, env, record.data]);
}

/** Every intact record of a segment, in order, up to the first damaged one. */
export function decodeJournalRecords(segment: Buffer): {
  records: JournalRecord[];
  damagedAt: number | null;
} {
  const records: JournalRecord[] = [];
  let at = 0;
  while (at < segment.length) {
    if (segment.length - at < HEADER || segment.readUInt32BE(at) !== MAGIC) return { records, damagedAt: at };
    const bodyLength = segment.readUInt32BE(at + 4);
    const body = segment.subarray(at + HEADER, at + HEADER + bodyLength);
    if (body.length !== bodyLength || bodyLength < 6 || crc32(body) !== segment.readUInt32BE(at + 8)) {
      return { records, damagedAt: at };
    }
    const idLength = body.readUInt16BE(0);
    const envLength = body.readUInt32BE(2);
    if (6 + idLength + envLength > body.length) return { records, damagedAt: at };
    const id = body.subarray(6, 6 + idLength).toString('latin1');
    const envBytes = body.subarray(6 + idLength, 6 + idLength + envLength);
    let envelope: Envelope | null = null;
    try {
      envelope = envLength ? (JSON.parse(envBytes.toString('utf8')) as Envelope) : null;
    } catch {
      return { records, damagedAt: at };
    }
    records.push({ id, envelope, data: Buffer.from(body.subarray(6 + idLength + envLength)) });
    at += HEADER + bodyLength;
  }
  return { records, damagedAt: null };
}
