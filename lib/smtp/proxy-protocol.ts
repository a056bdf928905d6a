import { isIP, type Socket } from 'node:net';
import { ProxyProtocolError } from './errors.ts';

/** The 12 bytes every PROXY protocol v2 header starts with. */
export const PROXY_V2_SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** A v1 header is at most 107 bytes, CRLF included. */
const V1_MAX = 107;
/** Longest v2 address block (with TLVs) we accept; the addresses themselves need at most 216. */
const V2_MAX_LENGTH = 2048;

/** What a PROXY header says about the connection. */
export interface ProxyHeader {
  version: 1 | 2;
  /**
   * The client's address and port, or null when the header gives none (v1 `UNKNOWN`, v2 `LOCAL` such
   * as a proxy's health check): the connection then stands for itself.
   */
  client: { address: string; port: number } | null;
}

/** Whether `bytes` (the first a client sent) start like a PROXY header: `PROXY ` or the v2 signature. */
export function looksLikeProxyHeader(bytes: Buffer): boolean {
  if (bytes.length >= V1_PREFIX.length && bytes.subarray(0, V1_PREFIX.length).equals(V1_PREFIX)) return true;
  const n = Math.min(bytes.length, PROXY_V2_SIGNATURE.length);
  return n >= 5 && bytes.subarray(0, n).equals(PROXY_V2_SIGNATURE.subarray(0, n));
}

/**
 * Parses a PROXY header (v1 text or v2 binary) at the start of `buf`.
 * @returns the header and its length in bytes, or null when more bytes are needed.
 * @throws ProxyProtocolError when `buf` cannot start a valid header.
 */
export function parseProxyHeader(buf: Buffer): { header: ProxyHeader; length: number } | null {
  if (buf.length === 0) return null;
  if (buf[0] === 0x0d) return parseV2(buf);
  if (buf[0] === 0x50) return parseV1(buf);
  throw new ProxyProtocolError('PROXY protocol header expected');
}

function parseV1(buf: Buffer): { header: ProxyHeader; length: number } | null {
  const n = Math.min(buf.length, V1_PREFIX.length);
  if (!buf.subarray(0, n).equals(V1_PREFIX.subarray(0, n))) {
    throw new ProxyProtocolError('PROXY protocol header expected');
  }
  const end = buf.subarray(0, V1_MAX).indexOf('\r\n');
  if (end < 0) {
    if (buf.length >= V1_MAX) throw new ProxyProtocolError('PROXY header too long');
    return null;
  }
  const line = buf.subarray(0, end).toString('latin1');
  const parts = line.split(' ');
  const length = end + 2;
  if (parts[1] === 'UNKNOWN') return { header: { version: 1, client: null }, length };
  if (parts.length !== 6 || (parts[1] !== 'TCP4' && parts[1] !== 'TCP6')) {
    throw new ProxyProtocolError('malformed PROXY header');
  }
  const [, proto, src = '', dst = '', sport = '', dport = ''] = parts;
  const family = proto === 'TCP4' ? 4 : 6;
  if (isIP(src) !== family || isIP(dst) !== family || !isPort(sport) || !isPort(dport)) {
    throw new ProxyProtocolError('malformed PROXY header');
  }
  return { header: { version: 1, client: { address: src, port: Number(sport) } }, length };
}

function isPort(value: string): boolean {
  return /^(0|[1-9]\d{0,4})$/.test(value) && Number(value) <= 65535;
}

function parseV2(buf: Buffer): { header: ProxyHeader; length: number } | null {
  const n = Math.min(buf.length, PROXY_V2_SIGNATURE.length);
  if (!buf.subarray(0, n).equals(PROXY_V2_SIGNATURE.subarray(0, n))) {
    throw new ProxyProtocolError('PROXY protocol header expected');
  }
  if (buf.length < 16) return null;
  const versionCommand = buf[12]!;
  const familyProtocol = buf[13]!;
  const addressLength = buf.readUInt16BE(14);
  if (versionCommand >> 4 !== 2) throw new ProxyProtocolError('unsupported PROXY protocol version');
  const command = versionCommand & 0x0f;
  if (command > 1) throw new ProxyProtocolError('malformed PROXY header');
  if (addressLength > V2_MAX_LENGTH) throw new ProxyProtocolError('PROXY header too long');
  const length = 16 + addressLength;
  if (buf.length < length) return null;
  // LOCAL: the proxy speaking for itself (health checks); the address block is ignored.
  if (command === 0) return { header: { version: 2, client: null }, length };
  const block = buf.subarray(16, length);
  if (familyProtocol === 0x11) {
    if (block.length < 12) throw new ProxyProtocolError('malformed PROXY header');
    const address = [...block.subarray(0, 4)].join('.');
    return { header: { version: 2, client: { address, port: block.readUInt16BE(8) } }, length };
  }
  if (familyProtocol === 0x21) {
    if (block.length < 36) throw new ProxyProtocolError('malformed PROXY header');
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(block.readUInt16BE(i).toString(16));
    return {
      header: { version: 2, client: { address: compressIPv6(groups), port: block.readUInt16BE(32) } },
      length,
    };
  }
  if (familyProtocol === 0x00) return { header: { version: 2, client: null }, length };
  throw new ProxyProtocolError('PROXY header for an unsupported protocol (only TCP over IPv4/IPv6)');
}

/** `2001:db8:0:0:0:0:0:1` → `2001:db8::1`; IPv4-mapped addresses become plain IPv4. */
function compressIPv6(groups: string[]): string {
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    const a = Number.parseInt(groups[6]!, 16);
    const b = Number.parseInt(groups[7]!, 16);
    return `${a >> 8}.${a & 0xff}.${b >> 8}.${b & 0xff}`;
  }
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLength).join(':')}`;
}

/**
 * Reads the PROXY header a trusted proxy sends before anything else. Bytes after the header are put
 * back into the socket, which is left paused for the SMTP session.
 * @param timeoutMs how long the proxy may take to send the whole header.
 * @throws ProxyProtocolError for a missing, malformed or late header, or a connection closed first.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number): Promise<ProxyHeader> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const timer = setTimeout(
      () => fail(new ProxyProtocolError('timed out waiting for the PROXY header')),
      timeoutMs,
    );
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
    };
    const fail = (err: Error) => {
      cleanup();
      socket.pause();
      reject(err);
    };
    const onEnd = () => fail(new ProxyProtocolError('connection closed before the PROXY header'));
    const onError = (err: Error) => fail(err);
    const onData = (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      let parsed: ReturnType<typeof parseProxyHeader>;
      try {
        parsed = parseProxyHeader(buffered);
      } catch (err) {
        fail(err as Error);
        return;
      }
      if (!parsed) return;
      cleanup();
      socket.pause();
      const rest = buffered.subarray(parsed.length);
      if (rest.length) socket.unshift(rest);
      resolve(parsed.header);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.on('error', onError);
  });
}
