/**
 * The seeded fuzzer (part of `npm run test:hostile`): corpus messages, mutated, sent to a real
 * `mailroom smtp` process in mutated SMTP sessions; and the same mutations through `parseMessage` and
 * `authenticateMessage` in-process.
 *
 * Invariants: the server never dies; it answers every session and closes it after QUIT within
 * {@link SESSION_DEADLINE_MS} (no hang); every message it acknowledged with `250` is stored and processed.
 * In-process, parsing and authenticating never throw and each message finishes within the same deadline.
 *
 * CI runs a fixed seed; longer runs: `MAILROOM_FUZZ_SEED=123 MAILROOM_FUZZ_RUNS=2000 npm run fuzz`.
 */
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateMessage } from '../../lib/auth/index.ts';
import { createStaticResolver } from '../../lib/auth/static-resolver.ts';
import { parseMessage } from '../../lib/message/index.ts';
import { corporaDir } from '../support/corpora.ts';
import { waitFor } from '../support/mailroom-process.ts';
import { connectFrom, type SmtpProcess, startSmtpProcess } from '../support/mailroom-smtp-process.ts';
import { corpusMessages, mutate, prng, SEED_MESSAGES, type SessionScript, sessionScript } from './fuzz.ts';

const SEED = Number(process.env.MAILROOM_FUZZ_SEED ?? 20261206);
const RUNS = Number(process.env.MAILROOM_FUZZ_RUNS ?? 120);
const SESSION_DEADLINE_MS = 30_000;

const corpus = corpusMessages(corporaDir());
const messages = corpus.length ? corpus : [...SEED_MESSAGES];

let server: SmtpProcess;
beforeAll(async () => {
  // One address per session, 127.0.x.y: the per-address rate limits are not what is fuzzed here.
  server = await startSmtpProcess();
}, 120_000);
afterAll(async () => {
  await server?.stop();
}, 60_000);

interface SessionOutcome {
  ids: string[];
  replies: string[];
  hung: string | null;
}

/** Plays a script; never throws. `hung` says what the server failed to answer within the deadline. */
async function play(script: SessionScript, from: string): Promise<SessionOutcome> {
  const outcome: SessionOutcome = { ids: [], replies: [], hung: null };
  let socket: Socket;
  try {
    socket = await connectFrom(server.port, from);
  } catch (err) {
    outcome.hung = `connect: ${err}`;
    return outcome;
  }
  let buffer = '';
  let closed = false;
  let arrived = 0;
  let wake: (() => void) | null = null;
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    buffer += d;
    for (let nl = buffer.indexOf('\r\n'); nl >= 0; nl = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 2);
      if (!/^\d{3} /.test(line)) continue;
      arrived++;
      outcome.replies.push(line.slice(0, 60));
      const id = line.match(/^250 2\.0\.0 Ok: queued as (\S+)/)?.[1];
      if (id) outcome.ids.push(id);
    }
    wake?.();
  });
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  const waitUntil = async (done: () => boolean, what: string) => {
    const deadline = performance.now() + SESSION_DEADLINE_MS;
    while (!done() && !closed) {
      const left = deadline - performance.now();
      if (left <= 0) {
        outcome.hung = what;
        return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  };
  let expected = 1; // the greeting
  await waitUntil(() => arrived >= expected, 'greeting');
  for (const step of script.steps) {
    if (closed || outcome.hung) break;
    if (!socket.write(step.bytes)) await new Promise((r) => socket.once('drain', r));
    expected += step.wait;
    if (step.wait)
      await waitUntil(() => arrived >= expected, `reply to ${step.bytes.subarray(0, 30).toString('latin1')}`);
  }
  if (script.abort) socket.destroy();
  else if (!outcome.hung) await waitUntil(() => false, 'close after QUIT');
  socket.destroy();
  return outcome;
}

describe(`seeded fuzzer (seed ${SEED}, ${RUNS} sessions, ${messages.length} base messages)`, () => {
  it(
    'mutated sessions against mailroom smtp: no crash, no hang, every 250 stored and processed',
    async () => {
      const rng = prng(SEED);
      const acked: Array<{ id: string; run: number }> = [];
      const failures: string[] = [];
      const counts: Record<string, number> = {};
      for (let run = 0; run < RUNS; run++) {
        const base = rng.pick(messages);
        const { bytes, applied } = rng.chance(0.15) ? { bytes: base, applied: ['none'] } : mutate(base, rng);
        const script = sessionScript(bytes, rng);
        const from = `127.0.${1 + (run % 200)}.${1 + Math.floor(run / 200)}`;
        const outcome = await play(script, from);
        for (const id of outcome.ids) acked.push({ id, run });
        const last = outcome.replies.at(-1)?.slice(0, process.env.MAILROOM_FUZZ_VERBOSE ? 40 : 3) ?? 'none';
        counts[last] = (counts[last] ?? 0) + 1;
        const label = `run ${run} (seed ${SEED}; ${applied.join('+')}; ${script.notes.join(', ') || 'plain'}; ${bytes.length} bytes)`;
        if (outcome.hung)
          failures.push(`${label}: no answer within ${SESSION_DEADLINE_MS} ms to ${outcome.hung}`);
        if (!server.alive()) {
          failures.push(`${label}: the server died\n${server.stderr().slice(-3000)}`);
          break;
        }
      }
      console.log(
        `fuzz: ${RUNS} sessions, ${acked.length} messages acknowledged; last replies by code ${JSON.stringify(counts)}`,
      );
      expect(failures).toEqual([]);
      expect(acked.length).toBeGreaterThan(RUNS / 4);
      // Every acknowledged message is stored and processed.
      await waitFor(async () => {
        const statuses = server.statuses();
        return acked.every(({ id }) => {
          const s = statuses.get(id);
          return s === 'processed' || s === 'failed';
        });
      }, 'every acknowledged message processed');
      const statuses = server.statuses();
      const notProcessed = acked.filter(({ id }) => statuses.get(id) !== 'processed');
      expect(notProcessed).toEqual([]);
      expect(server.alive()).toBe(true);
    },
    Math.max(180_000, RUNS * 1000),
  );

  it('the same mutations in-process: parse and authenticate never throw and finish within the deadline', async () => {
    const rng = prng(SEED + 1);
    const resolver = createStaticResolver({});
    const slow: string[] = [];
    for (let run = 0; run < RUNS * 2; run++) {
      const { bytes, applied } = mutate(rng.pick(messages), rng);
      const label = `run ${run} (seed ${SEED + 1}; ${applied.join('+')}; ${bytes.length} bytes)`;
      const started = performance.now();
      const parsed = await parseMessage(bytes).catch((err: unknown) => {
        throw new Error(`${label}: parseMessage threw ${err}`);
      });
      expect(Array.isArray(parsed.problems)).toBe(true);
      const auth = await authenticateMessage(bytes, {
        ip: '192.0.2.1',
        helo: 'fuzz.test',
        mailFrom: 'fuzz@sender.test',
        resolver,
        authservId: 'mx.example.com',
      }).catch((err: unknown) => {
        throw new Error(`${label}: authenticateMessage threw ${err}`);
      });
      expect(auth.spf.result).toBeTypeOf('string');
      const took = performance.now() - started;
      if (took > SESSION_DEADLINE_MS) slow.push(`${label}: ${took.toFixed(0)} ms`);
    }
    expect(slow).toEqual([]);
  });
});
