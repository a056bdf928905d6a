/**
 * Where `mailroom smtp`'s CPU goes during an ingest, thread by thread: the bench's Mailroom (pinned to core 0,
 * `smtp-source` on core 1), a warm-up, then measured runs; for each, msg/s and the CPU each thread of the
 * server used per message (user + system, from /proc/<pid>/task/<tid>/stat, Linux). The SMTP thread is the
 * process's main thread; threads at nice 10 are background work (processing workers, the journal's
 * checkpoint writer); the rest are V8's helpers (GC), libuv's pool (the journal's fdatasync), the auth worker
 * and the TypeScript loader's thread. Processing left after a run is waited for and not counted.
 *
 *   npm run bench:threads -- [--workers 0] [--sessions 20] [--size 1024] [--messages 6000] [--rounds 2]
 *                            [--warmup 3000]
 *
 * Needs `smtp-source` (apt-get install postfix) and `taskset`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startMailroomSmtp } from './suite/mailroom.ts';
import { pinSelf, settleCpu } from './suite/procs.ts';
import { runSource } from './suite/smtp-source.ts';

/** CPU ticks (user + system) and nice value of each thread of `pid`, by tid. */
function threadTicks(pid: number): Map<number, { ticks: number; nice: number }> {
  const threads = new Map<number, { ticks: number; nice: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Fields after the command name (in parentheses): utime is field 14, stime 15, nice 19.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      threads.set(Number(tid), { ticks: Number(fields[11]) + Number(fields[12]), nice: Number(fields[16]) });
    } catch {
      // the thread ended meanwhile
    }
  }
  return threads;
}

const { values } = parseArgs({
  options: {
    workers: { type: 'string', default: '0' },
    sessions: { type: 'string', default: '20' },
    size: { type: 'string', default: '1024' },
    messages: { type: 'string', default: '6000' },
    rounds: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '3000' },
  },
});
const workers = Number(values.workers);
const run = { sessions: Number(values.sessions), size: Number(values.size), mode: 'reuse' as const };
const messages = Number(values.messages);
/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const HZ = 100;

if (!pinSelf(1)) console.error('note: taskset missing, the client is not pinned');
const server = await startMailroomSmtp(workers);
const pid = server.pid;
if (!pid) throw new Error('mailroom smtp has no pid');
try {
  console.log(
    `mailroom smtp, delivery.workers ${workers}: ${run.sessions} sessions × ${run.size} bytes, ` +
      `${messages} messages per run after ${values.warmup} unmeasured`,
  );
  await runSource(server.port, { ...run, messages: Number(values.warmup) });
  await settleCpu(pid, 120_000);
  for (let round = 1; round <= Number(values.rounds); round++) {
    const before = threadTicks(pid);
    const seconds = await runSource(server.port, { ...run, messages });
    const after = threadTicks(pid);
    const rows = [...after]
      .map(([tid, { ticks, nice }]) => ({ tid, nice, ticks: ticks - (before.get(tid)?.ticks ?? 0) }))
      .filter((t) => t.ticks > 0)
      .sort((a, b) => b.ticks - a.ticks);
    const perMessage = (ticks: number) => `${Math.round((ticks * 1e6) / HZ / messages)} µs`;
    const total = rows.reduce((n, t) => n + t.ticks, 0);
    const label = (t: { tid: number; nice: number }) =>
      t.tid === pid ? 'SMTP thread' : t.nice >= 10 ? `tid ${t.tid} (nice ${t.nice})` : `tid ${t.tid}`;
    console.log(
      `round ${round}: ${Math.round(messages / seconds)} msg/s, ${perMessage(total)} CPU per message: ` +
        rows.map((t) => `${label(t)} ${perMessage(t.ticks)}`).join(', '),
    );
    await settleCpu(pid, 120_000);
  }
} finally {
  await server.stop();
}
