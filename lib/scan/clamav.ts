import { connect, type Socket } from 'node:net';
import { ScannerError, type VirusScan, type VirusScanner } from './types.ts';

/** Where clamd listens: TCP (`TCPSocket`/`TCPAddr` in clamd.conf) or a unix socket (`LocalSocket`). */
export type ClamavOptions = { host: string; port: number } | { socket: string };

/** Bytes per INSTREAM chunk. */
const CHUNK_BYTES = 64 * 1024;
/** clamd's reply is one short line; more is not clamd. */
const MAX_REPLY_BYTES = 4096;

/**
 * The `virus` port over clamd's `INSTREAM` command (clamd(8)): `zINSTREAM\0`, the message in chunks each
 * prefixed by its length (4 bytes, network order), a zero length to end; clamd answers one NUL-terminated
 * line, `stream: OK` or `stream: <name> FOUND`. Slices of the buffer are written as they are (no copy),
 * waiting for the socket to drain.
 */
export function createClamavScanner(options: ClamavOptions): VirusScanner {
  const where =
    'socket' in options ? `clamd at ${options.socket}` : `clamd at ${options.host}:${options.port}`;
  return {
    name: 'clamav',
    scan(raw: Buffer, signal: AbortSignal): Promise<VirusScan> {
      return new Promise<VirusScan>((resolve, reject) => {
        if (signal.aborted) {
          reject(new ScannerError(`${where}: no answer in time`));
          return;
        }
        const socket: Socket =
          'socket' in options ? connect(options.socket) : connect(options.port, options.host);
        const chunks: Buffer[] = [];
        let size = 0;
        let settled = false;
        const finish = (err: Error | null, result?: VirusScan) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          socket.destroy();
          if (err) reject(err);
          else resolve(result as VirusScan);
        };
        const onAbort = () => finish(new ScannerError(`${where}: no answer in time`));
        signal.addEventListener('abort', onAbort, { once: true });
        socket.on('error', (err: NodeJS.ErrnoException) =>
          finish(new ScannerError(`${where}: ${err.code ?? err.message}`, { cause: err })),
        );
        socket.on('data', (data: Buffer) => {
          chunks.push(data);
          size += data.length;
          const text = Buffer.concat(chunks, size);
          const end = text.indexOf(0);
          if (end >= 0) finish(...parseReply(text.subarray(0, end).toString('utf8'), where));
          else if (size > MAX_REPLY_BYTES) finish(new ScannerError(`${where}: reply too long`));
        });
        socket.on('close', () => {
          if (size > 0) finish(...parseReply(Buffer.concat(chunks, size).toString('utf8'), where));
          else finish(new ScannerError(`${where}: closed the connection without an answer`));
        });
        socket.once('connect', () => {
          void send(socket, raw).catch((err: Error) => finish(new ScannerError(`${where}: ${err.message}`)));
        });
      });
    },
  };
}

async function send(socket: Socket, raw: Buffer): Promise<void> {
  await write(socket, Buffer.from('zINSTREAM\0', 'latin1'));
  for (let at = 0; at < raw.length; at += CHUNK_BYTES) {
    const chunk = raw.subarray(at, Math.min(at + CHUNK_BYTES, raw.length));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(chunk.length);
    await write(socket, length);
    await write(socket, chunk);
  }
  await write(socket, Buffer.alloc(4));
}

function write(socket: Socket, data: Buffer): Promise<void> {
  if (socket.destroyed) return Promise.reject(new Error('connection closed'));
  if (socket.write(data)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      socket.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      socket.off('drain', onDrain);
      reject(new Error('connection closed'));
    };
    socket.once('drain', onDrain);
    socket.once('close', onClose);
  });
}

/** Reads clamd's answer to INSTREAM: `stream: OK`, `stream: <name> FOUND`, or `… ERROR`. */
export function parseReply(line: string, where = 'clamd'): [Error | null, VirusScan?] {
  const text = line.replace(/\0/g, '').trim();
  const body = text.replace(/^stream:\s*/, '');
  if (body === 'OK') return [null, { virus: null }];
  const found = /^(.+?)\s+FOUND$/.exec(body);
  if (found?.[1]) return [null, { virus: found[1].slice(0, 200) }];
  return [new ScannerError(`${where}: ${body.slice(0, 200) || 'empty answer'}`)];
}
