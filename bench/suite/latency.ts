import { sleep } from './procs.ts';
import { latencyMessage, SmtpSession } from './smtp-client.ts';
import { percentile } from './stats.ts';
import type { LatencyStep } from './types.ts';

/**
 * Follows `GET /api/events` of `mailroom dev` and records, by message id, when `message.processed` (or
 * `message.failed`) arrived. Times are this process's `performance.now()`, like the 250s'.
 */
export class ProcessedEvents {
  readonly done = new Map<string, number>();
  readonly failed = new Set<string>();
  readonly #abort = new AbortController();
  #reading: Promise<void> = Promise.resolve();

  async open(httpPort: number): Promise<void> {
    const response = await fetch(`http://127.0.0.1:${httpPort}/api/events`, { signal: this.#abort.signal });
    if (!response.ok || !response.body) throw new Error(`GET /api/events answered ${response.status}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    this.#reading = (async () => {
      let buffer = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buffer += value;
          let end = buffer.indexOf('\n\n');
          while (end >= 0) {
            this.#onEvent(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf('\n\n');
          }
        }
      } catch {
        // aborted at close
      }
    })();
  }

  #onEvent(block: string): void {
    const type = block.match(/^event: (.+)$/m)?.[1];
    if (type !== 'message.processed' && type !== 'message.failed') return;
    const data = block.match(/^data: (.+)$/m)?.[1];
    if (!data) return;
    const { id } = JSON.parse(data) as { id: string };
    if (type === 'message.failed') this.failed.add(id);
    if (!this.done.has(id)) this.done.set(id, performance.now());
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#reading;
  }
}

export interface StepPlan {
  rate: number;
  seconds: number;
  sessions: number;
  /** How long to wait for the backlog to empty after the load stops. */
  drainLimitSeconds: number;
}

/**
 * Sends at a fixed rate for `seconds` over `sessions` open sessions: message i is due at i/rate s; it goes
 * out on the first idle session (late when none is idle — the 250s then come slower than the rate, which
 * `achieved` shows). Latency: 250 received → `message.processed` received.
 */
export async function runLatencyStep(
  port: number,
  events: ProcessedEvents,
  plan: StepPlan,
): Promise<LatencyStep> {
  const sessions = await Promise.all(Array.from({ length: plan.sessions }, () => SmtpSession.open(port)));
  const idle = [...sessions];
  const accepted = new Map<string, number>();
  let errors = 0;
  const inFlight = new Set<Promise<void>>();
  const start = performance.now();
  const total = Math.round(plan.rate * plan.seconds);
  let waiters: Array<() => void> = [];
  const release = (s: SmtpSession) => {
    idle.push(s);
    waiters.shift()?.();
  };
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / plan.rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    while (idle.length === 0) await new Promise<void>((r) => waiters.push(r));
    const session = idle.pop()!;
    const sending = session
      .send('sender@client.test', 'support@example.com', latencyMessage(i))
      .then(
        (reply) => {
          const id = reply.match(/queued as (\S+)/)?.[1];
          if (id) accepted.set(id, performance.now());
          else errors++;
        },
        () => {
          errors++;
        },
      )
      .finally(() => {
        inFlight.delete(sending);
        release(session);
      });
    inFlight.add(sending);
  }
  await Promise.all(inFlight);
  const loadSeconds = (performance.now() - start) / 1000;
  waiters = [];
  for (const s of sessions) s.close();
  const backlogAtEnd = [...accepted.keys()].filter((id) => !events.done.has(id)).length;
  const drainStart = performance.now();
  let drainSeconds: number | null = null;
  while (performance.now() - drainStart < plan.drainLimitSeconds * 1000) {
    if ([...accepted.keys()].every((id) => events.done.has(id))) {
      drainSeconds = (performance.now() - drainStart) / 1000;
      break;
    }
    await sleep(50);
  }
  const latencies = [...accepted].flatMap(([id, at]) => {
    const done = events.done.get(id);
    return done === undefined ? [] : [Math.max(0, done - at)];
  });
  errors += [...accepted.keys()].filter((id) => events.failed.has(id)).length;
  return {
    rate: plan.rate,
    seconds: plan.seconds,
    sessions: plan.sessions,
    sent: accepted.size,
    achieved: accepted.size / loadSeconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.length ? Math.max(...latencies) : null,
    backlogAtEnd,
    drainSeconds,
    errors,
  };
}

/** How long the latency server takes mail, at half the steady rate, before anything is measured. */
export const WARM_UP_SECONDS = 10;

/**
 * Where the server stopped keeping up: the highest swept rate at which it answered ≥ 95% of the rate and
 * had at most a second's worth of messages unprocessed at the end, and the next rate above it.
 */
export function findKnee(sweep: readonly LatencyStep[]): string {
  if (sweep.length === 0) return 'not measured';
  const keptUp = (s: LatencyStep) => s.achieved >= 0.95 * s.rate && s.backlogAtEnd <= s.rate;
  const sorted = [...sweep].sort((a, b) => a.rate - b.rate);
  const firstMiss = sorted.findIndex((s) => !keptUp(s));
  if (firstMiss === -1) return `above ${sorted.at(-1)!.rate} msg/s (kept up at every swept rate)`;
  if (firstMiss === 0) return `below ${sorted[0]!.rate} msg/s (did not keep up at the lowest swept rate)`;
  return `between ${sorted[firstMiss - 1]!.rate} and ${sorted[firstMiss]!.rate} msg/s`;
}
