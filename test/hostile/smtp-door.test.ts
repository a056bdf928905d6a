/**
 * The hostile-client suite (`npm run test:hostile`): one real `mailroom smtp` process with the example
 * config, attacked over real sockets the way issue 9 describes, while a well-behaved sender from another
 * address keeps sending. For every attack: the process survives, the sender gets its `220` within 1 s and
 * its `250` within 5 s, every message the server acknowledged is stored and processed, and peak RSS stays
 * under {@link PEAK_RSS_MIB}.
 *
 * The attackers come from 127.0.N.x (Linux routes all of 127/8 to loopback); 127.0.0.1 is exempt from the
 * per-address limits by default, so nobody here uses it.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/mailroom-process.ts';
import {
  connectFrom,
  type ProbeResult,
  probe,
  type SmtpProcess,
  startSmtpProcess,
} from '../support/mailroom-smtp-process.ts';

/** The bound on the server's peak resident memory over the whole suite. */
const PEAK_RSS_MIB = 512;
const GREETING_MS = 1000;
const ACCEPTED_MS = 5000;

let server: SmtpProcess;
let probes = 0;
const figures: string[] = [];

beforeAll(async () => {
  server = await startSmtpProcess();
}, 120_000);

afterAll(async () => {
  const peak = server?.peakRssMiB();
  figures.push(
    `peak RSS of mailroom smtp over the suite: ${peak?.toFixed(0)} MiB (bound ${PEAK_RSS_MIB} MiB)`,
  );
  console.log(`hostile suite figures:\n  ${figures.join('\n  ')}`);
  await server?.stop();
}, 60_000);

/** Runs the probe from a fresh address while `attack` is under way, and checks the server held. */
async function underAttack(name: string, attack: () => Promise<unknown>): Promise<ProbeResult> {
  const running = attack();
  running.catch(() => {});
  // Let the attack get going first.
  await new Promise((r) => setTimeout(r, 300));
  probes++;
  const result = await probe(server.port, `127.0.9.${probes}`, name);
  await running;
  figures.push(
    `${name}: probe greeted in ${result.greetingMs.toFixed(0)} ms, accepted in ${result.acceptedMs.toFixed(0)} ms; ` +
      `RSS now ${server.rssMiB().toFixed(0)} MiB`,
  );
  expect(server.alive(), `${name}: server died\n${server.stderr()}`).toBe(true);
  expect(result.greetingMs).toBeLessThan(GREETING_MS);
  expect(result.acceptedMs).toBeLessThan(ACCEPTED_MS);
  await expectProcessed(result.id);
  expect(server.peakRssMiB()).toBeLessThan(PEAK_RSS_MIB);
  return result;
}

async function expectProcessed(id: string): Promise<void> {
  expect(id).toMatch(/\S/);
  const status = await waitFor(async () => {
    const s = server.statuses().get(id);
    return s === 'processed' || s === 'failed' ? s : null;
  }, `message ${id} processed`);
  expect(status).toBe('processed');
}

/** Collects what the server sends on `socket` until it closes (or `ms` pass); counts reply lines. */
function replies(socket: Socket, ms: number): Promise<{ text: string; lines: number; closed: boolean }> {
  return new Promise((resolve) => {
    let tail = '';
    let lines = 0;
    socket.setEncoding('latin1');
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text: tail, lines, closed });
    };
    socket.on('data', (d: string) => {
      for (let i = d.indexOf('\n'); i >= 0; i = d.indexOf('\n', i + 1)) lines++;
      tail = (tail + d).slice(-2000);
    });
    socket.once('close', () => done(true));
    const timer = setTimeout(() => done(false), ms);
  });
}

/** A connection from `from` whose `220` greeting has arrived (sending earlier is refused: early talker). */
async function greeted(from: string): Promise<Socket> {
  const socket = await connectFrom(server.port, from);
  await new Promise<void>((resolve, reject) => {
    socket.once('data', (d: Buffer) =>
      d.toString('latin1').startsWith('220') ? resolve() : reject(new Error(`no greeting: ${d}`)),
    );
  });
  return socket;
}

/** Sends a whole message (MAIL, RCPT, DATA) pipelined the allowed way; resolves with the final reply. */
async function sendMessage(from: string, body: Buffer): Promise<string> {
  const socket = await greeted(from);
  const seen = replies(socket, 120_000);
  socket.write(
    'EHLO attacker.test\r\nMAIL FROM:<a@attacker.test>\r\nRCPT TO:<support@example.com>\r\nDATA\r\n',
  );
  // Wait for the 354 before the message (sending it earlier is refused, RFC 2920).
  await new Promise<void>((resolve) => {
    const onData = (d: string) => {
      if (d.includes('354')) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
  });
  socket.write(body);
  socket.write('\r\n.\r\n');
  await new Promise<void>((resolve) => {
    const onData = (d: string) => {
      if (/^(?:250|[45]\d\d) /m.test(d.split('354')[1] ?? d)) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
  });
  socket.end('QUIT\r\n');
  return (await seen).text;
}

function queuedId(text: string): string {
  const id = text.match(/250 2\.0\.0 Ok: queued as (\S+)/)?.[1];
  if (!id) throw new Error(`not accepted: ${text}`);
  return id;
}

describe('mailroom smtp under attack', () => {
  it('100,000 pipelined NOOPs in one write (never read): no crash, the client is cut off', async () => {
    let result: Awaited<ReturnType<typeof replies>> | undefined;
    await underAttack('100k pipelined NOOP', async () => {
      const socket = await greeted('127.0.1.1');
      socket.pause(); // never reads our replies: the server must not buffer 100k of them
      socket.write(`EHLO x\r\n${'NOOP\r\n'.repeat(100_000)}`);
      await new Promise((r) => setTimeout(r, 1500));
      socket.resume();
      result = await replies(socket, 30_000);
    });
    expect(result?.closed).toBe(true);
    expect(result?.text).toMatch(/421 4\.5\.0 Too many commands without waiting for replies/);
  });

  it('100,000 pipelined RSETs read as they come: no crash, no stack overflow', async () => {
    let result: Awaited<ReturnType<typeof replies>> | undefined;
    await underAttack('100k pipelined RSET', async () => {
      const socket = await greeted('127.0.1.2');
      const seen = replies(socket, 30_000);
      socket.write(`EHLO x\r\n${'RSET\r\n'.repeat(100_000)}`);
      result = await seen;
    });
    expect(result?.text).toMatch(/421 4\.5\.0/);
    // The commands before the cap were answered one by one.
    expect(result?.lines).toBeGreaterThan(1000);
    expect(result?.lines).toBeLessThan(2000);
  });

  it('10,000 RCPTs in one write: refused past the pipelining cap, the server goes on', async () => {
    let result: Awaited<ReturnType<typeof replies>> | undefined;
    await underAttack('10k RCPT', async () => {
      const socket = await greeted('127.0.1.3');
      const seen = replies(socket, 30_000);
      let batch = 'EHLO x\r\nMAIL FROM:<a@attacker.test>\r\n';
      for (let i = 0; i < 10_000; i++) batch += `RCPT TO:<support+${i}@example.com>\r\n`;
      socket.write(batch);
      result = await seen;
    });
    expect(result?.text).toMatch(/452 4\.5\.3 Too many recipients|421 4\.5\.0/);
    expect(result?.closed).toBe(true);
  });

  it('a Subject folded over 150,000 lines: the event loop keeps serving; stored and processed', async () => {
    let text = '';
    await underAttack('150k folded header lines', async () => {
      const folded = `Subject: start\r\n${' x\r\n'.repeat(150_000)}`;
      const body = Buffer.from(`From: a@attacker.test\r\nTo: support@example.com\r\n${folded}\r\nbody\r\n`);
      text = await sendMessage('127.0.1.4', body);
    });
    await expectProcessed(queuedId(text));
  });

  it('a 20 MB single-line body: stored and processed, other senders unaffected', async () => {
    let text = '';
    await underAttack('20 MB single line', async () => {
      const body = Buffer.concat([
        Buffer.from('From: a@attacker.test\r\nTo: support@example.com\r\nSubject: long line\r\n\r\n'),
        Buffer.alloc(20 * 1024 * 1024, 'a'),
      ]);
      text = await sendMessage('127.0.1.5', body);
    });
    await expectProcessed(queuedId(text));
  });

  it('1,000-level MIME nesting: stored and processed with its problems', async () => {
    let text = '';
    await underAttack('1000-level MIME nesting', async () => {
      let head =
        'From: a@attacker.test\r\nTo: support@example.com\r\nSubject: nested\r\nMIME-Version: 1.0\r\n';
      let tail = '';
      for (let i = 0; i < 1000; i++) {
        head += `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`;
        tail = `\r\n--b${i}--\r\n${tail}`;
      }
      text = await sendMessage(
        '127.0.1.6',
        Buffer.from(`${head}Content-Type: text/plain\r\n\r\nhi\r\n${tail}`),
      );
    });
    await expectProcessed(queuedId(text));
  });

  it('100 slow-loris sessions from 5 addresses (1 byte/s in DATA) cannot lock others out', async () => {
    const sockets: Socket[] = [];
    let greeted = 0;
    let refused = 0;
    await underAttack('100 slow-loris sessions', async () => {
      const opened = await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          // Five addresses in five different /24s: the per-address share is what must hold.
          const socket = await connectFrom(server.port, `127.0.${(i % 5) + 2}.1`);
          sockets.push(socket);
          socket.setEncoding('latin1');
          return new Promise<void>((resolve) => {
            let seen = '';
            socket.on('data', (d: string) => {
              seen += d;
              if (seen.startsWith('421')) {
                refused++;
                resolve();
              } else if (seen.startsWith('220') && !seen.includes('EHLO-sent')) {
                greeted++;
                seen += 'EHLO-sent';
                socket.write('EHLO loris\r\n');
                setTimeout(() => socket.write('MAIL FROM:<l@loris.test>\r\n'), 50);
                setTimeout(() => socket.write('RCPT TO:<support@example.com>\r\n'), 100);
                setTimeout(() => socket.write('DATA\r\n'), 150);
                resolve();
              }
            });
            socket.once('close', () => resolve());
          });
        }),
      );
      void opened;
      // One byte a second into DATA, for as long as the probe runs.
      const drip = setInterval(() => {
        for (const s of sockets) if (!s.destroyed) s.write('x');
      }, 1000);
      await new Promise((r) => setTimeout(r, 3000));
      clearInterval(drip);
    });
    figures.push(`slow-loris: ${greeted} of 100 sessions greeted, ${refused} refused 421 at connect`);
    expect(greeted).toBeLessThanOrEqual(50);
    expect(refused).toBeGreaterThanOrEqual(50);
    for (const s of sockets) s.destroy();
  });
});
