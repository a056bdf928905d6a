#!/usr/bin/env node
/**
 * The bare baselines of `npm run bench`: smtp-server accepting every message, either discarding it
 * (`discard`) or writing it to a file of its own and fsyncing it before the 250 (`fsync`). Started by
 * bench/suite/servers.ts (pinned to one core); tells its port over IPC and answers `count`.
 *
 * They greet at once, as every other server in the bench does: smtp-server holds each `220` for a fixed
 * 100 ms to catch early talkers, and has no option to turn that off, so `greetAtOnce` replaces the one
 * method that waits. With the pause, a run's figure measured the pause (20 sessions wait 100 ms
 * before their first message; a new connection per message was capped at 10 messages/s per session).
 *
 *   node bench/suite/bare-server.js discard|fsync DIR
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { greetAtOnce } from './greet-at-once.js';

const [mode, dir] = process.argv.slice(2);
if (mode !== 'discard' && mode !== 'fsync') throw new Error('usage: bare-server.js discard|fsync DIR');
let stored = 0;
let n = 0;

async function keep(session, chunks) {
  if (mode === 'discard') return;
  const file = await open(join(dir, `${session.id}-${++n}.eml`), 'w');
  try {
    await file.write(Buffer.concat(chunks));
    await file.sync();
  } finally {
    await file.close();
  }
}

const server = new SMTPServer({
  name: 'bench.mailroom.local',
  size: 25 * 1024 * 1024,
  authOptional: true,
  disabledCommands: ['AUTH', 'STARTTLS'],
  hideSTARTTLS: true,
  disableReverseLookup: true,
  logger: false,
  onData(stream, session, callback) {
    const chunks = [];
    stream.on('data', (chunk) => {
      if (mode === 'fsync') chunks.push(chunk);
    });
    stream.on('end', () => {
      keep(session, chunks).then(
        () => {
          stored++;
          callback(null, 'Ok');
        },
        (err) => callback(err),
      );
    });
  },
});
greetAtOnce(server);
server.on('error', () => {});
server.listen(0, '127.0.0.1', () => {
  process.send({ type: 'ready', port: server.server.address().port });
});
process.on('message', (msg) => {
  if (msg === 'count') process.send({ type: 'count', value: stored });
});
process.on('disconnect', () => server.close(() => process.exit(0)));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
