import { spawn } from 'node:child_process';
import { type AddressInfo, connect } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { describe, expect, it, vi } from 'vitest';
import { BenchUsageError, messagesFor, parseBenchArgs } from '../../../bench/suite/args.ts';
import { greetAtOnce } from '../../../bench/suite/greet-at-once.js';
import { findKnee } from '../../../bench/suite/latency.ts';
import { BENCH_CONFIG, benchConfig } from '../../../bench/suite/mailroom.ts';
import { cpuTicks, treeCpuTicks } from '../../../bench/suite/procs.ts';
import { ingestRows, renderMarkdown, renderSvg, renderText } from '../../../bench/suite/render.ts';
import { sourceArgs } from '../../../bench/suite/smtp-source.ts';
import { abba, median, percentile, ratio } from '../../../bench/suite/stats.ts';
import type { BenchResults, IngestCell, LatencyStep } from '../../../bench/suite/types.ts';

describe('parseBenchArgs', () => {
  it('defaults to every server and part, 3 rounds, the full matrix', () => {
    const o = parseBenchArgs([]);
    expect(o.servers).toEqual([
      'smtp-sink',
      'bare-discard',
      'bare-fsync',
      'haraka',
      'postfix',
      'mailroom',
      'mailroom-1w',
    ]);
    expect(o.parts).toEqual(['ingest', 'processing', 'latency', 's3']);
    expect(o).toMatchObject({
      quick: false,
      rounds: 3,
      messages: 3000,
      latencySeconds: 60,
      latencyRate: 100,
    });
    expect(o.sessions).toEqual([1, 20]);
    expect(o.sizes).toEqual([1024, 102_400]);
    expect(o.modes).toEqual(['reuse', 'new']);
    expect(o.sweepRates).toEqual([50, 100, 200, 400]);
  });

  it('--quick shortens everything, explicit options still win', () => {
    const o = parseBenchArgs(['--quick', '--rounds', '4']);
    expect(o).toMatchObject({ quick: true, rounds: 4, messages: 600, latencySeconds: 10, sweepSeconds: 4 });
  });

  it('--only keeps table order and drops duplicates', () => {
    expect(parseBenchArgs(['--only', 'mailroom,haraka,mailroom']).servers).toEqual(['haraka', 'mailroom']);
  });

  it('refuses unknown names, non-numbers and unknown flags', () => {
    expect(() => parseBenchArgs(['--only', 'exim'])).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(['--rounds', '0'])).toThrow(/positive whole number/);
    expect(() => parseBenchArgs(['--sizes', '1024,'])).toThrow(BenchUsageError);
    expect(() => parseBenchArgs(['--modes', 'pipelined'])).toThrow(/unknown 'pipelined'/);
    expect(() => parseBenchArgs(['--fast'])).toThrow(BenchUsageError);
  });
});

describe('messagesFor', () => {
  it('sends a quarter at 100 KB, an eighth with a new connection each, a quarter with one session, never under 20', () => {
    expect(messagesFor({ messages: 1000 }, 1024, 'reuse', 20)).toBe(1000);
    expect(messagesFor({ messages: 1000 }, 102_400, 'reuse', 20)).toBe(250);
    expect(messagesFor({ messages: 1000 }, 1024, 'new', 20)).toBe(125);
    expect(messagesFor({ messages: 1000 }, 102_400, 'new', 20)).toBe(31);
    expect(messagesFor({ messages: 1000 }, 1024, 'reuse', 1)).toBe(250);
    expect(messagesFor({ messages: 30 }, 102_400, 'new', 1)).toBe(20);
  });
});

describe('sourceArgs', () => {
  it('uses -d only for connection reuse', () => {
    const run = { sessions: 20, messages: 100, size: 1024 };
    expect(sourceArgs(2525, { ...run, mode: 'reuse' })).toContain('-d');
    expect(sourceArgs(2525, { ...run, mode: 'new' })).not.toContain('-d');
    expect(sourceArgs(2525, { ...run, mode: 'new' }).at(-1)).toBe('127.0.0.1:2525');
  });
});

describe('stats', () => {
  it('median, nearest-rank percentile, ratio, ABBA order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(median([])).toBeNull();
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(ratio(1, 0)).toBeNull();
    expect(abba(['a', 'b'], 0)).toEqual(['a', 'b']);
    expect(abba(['a', 'b'], 1)).toEqual(['b', 'a']);
  });
});

const cell = (
  server: IngestCell['server'],
  rates: number[],
  mode: IngestCell['mode'] = 'reuse',
  cpu: number[] = [],
): IngestCell => ({
  server,
  sessions: 20,
  size: 1024,
  mode,
  messages: 100,
  rates,
  cpu,
  failures: [],
});

const step = (rate: number, achieved: number, backlogAtEnd: number): LatencyStep => ({
  rate,
  seconds: 10,
  sessions: 20,
  sent: achieved * 10,
  achieved,
  p50: 10,
  p99: 40,
  max: 50,
  backlogAtEnd,
  drainSeconds: 1,
  errors: 0,
});

function results(ingest: IngestCell[]): BenchResults {
  return {
    startedAt: '2026-12-07T00:00:00.000Z',
    finishedAt: '2026-12-07T00:10:00.000Z',
    command: 'npm run bench -- --quick',
    machine: {
      cpus: 2,
      cpuModel: 'Test CPU',
      loadAverageStart: [1, 1, 1],
      loadAverageEnd: [2, 2, 2],
      platform: 'linux x64',
      node: 'v20.0.0',
      haraka: '3.3.4',
      postfix: '3.7.11',
      mailroomCommit: 'abc1234',
    },
    notices: ['postfix skipped: not root'],
    ingest,
    processing: {
      messages: 10,
      size: 2000,
      mailroom: [50, 70, 60],
      mailroomAccept: [900],
      mailroomParse: [80, 90, 100],
      mailparser: [100, 120, 110],
    },
    latency: {
      workers: 1,
      steady: step(100, 99, 3),
      steadyWorkers0: step(100, 100, 1),
      sweep: [step(50, 50, 0), step(200, 120, 500)],
      knee: 'between 50 and 200 msg/s',
    },
    s3: { messages: 100, sessions: 20, size: 1024, mailroomS3: [300], bareDiscard: [600], failures: [] },
  };
}

describe('rendering', () => {
  const ingest = [
    cell('bare-discard', [4000, 5000, 6000], 'reuse', [110, 100, 120]),
    cell('haraka', [2000, 2500], 'reuse', [300, 400]),
    cell('mailroom', [1000, 1250, 1500], 'reuse', [500, 700, 600]),
    cell('mailroom', [], 'new'),
  ];

  it('rows give median (min–max), the ratios to bare discard and Haraka of the same group, and CPU per message', () => {
    const rows = ingestRows(ingest);
    expect(rows[2]).toEqual([
      'mailroom',
      '20',
      '1 KB',
      'reuse',
      '1,250 (1,000–1,500)',
      '0.25×',
      '0.56×',
      '600',
      '0.58×', // Haraka's median 350 µs of 600
    ]);
    expect(rows[0]!.slice(7)).toEqual(['110', '3.18×']);
    // A group without bare discard or Haraka has no ratio; a cell without a rate or CPU says so.
    expect(rows[3]).toEqual(['mailroom', '20', '1 KB', 'new conn.', '–', '–', '–', '–', '–']);
  });

  it('Markdown has the machine facts, notices and every part', () => {
    const md = renderMarkdown(results(ingest));
    expect(md).toContain(
      '| server | sessions | size | mode | msg/s median (min–max) | × bare discard | × Haraka | CPU µs/msg | CPU × Haraka |',
    );
    expect(md).toContain('Haraka 3.3.4');
    expect(md).toContain('- postfix skipped: not root');
    expect(md).toContain('| mailroom (accept → processed) | 60 (50–70) | 0.55× |');
    expect(md).toContain('| mailroom parse alone (`parseMessage`) | 90 (80–100) | 0.82× |');
    expect(md).toContain('| steady, workers 1 | 100 | 99.0 | 10.0 | 40.0 | 3 | 1.0 s | 0 |');
    expect(md).toContain('| sweep, workers 1 | 200 |');
    expect(md).toContain('| steady, workers 0 | 100 | 100.0 |');
    expect(md).toContain('Knee: between 50 and 200 msg/s.');
    expect(md).toContain('| mailroom smtp (S3) | 300 (300–300) | 0.50× |');
  });

  it('every server greets at once, and the header and the ingest table say so', () => {
    expect(BENCH_CONFIG).toContain('smtp: { greetingDelayMs: 0 }');
    expect(BENCH_CONFIG).toContain('delivery: { workers: 0 },'); // the default is 1
    expect(benchConfig(1)).toContain('delivery: { workers: 1 },');
    const md = renderMarkdown(results(ingest));
    const [header, ingestPart] = md.split('## Ingest');
    expect(header).toMatch(/Mailroom with `smtp\.greetingDelayMs: 0`/);
    expect(header).toMatch(/bare-discard and bare-fsync with smtp-server's fixed 100 ms pause taken out/);
    expect(ingestPart!.split('| server |')[0]).toMatch(/smtp-server alone \(greeting at once\)/);
  });

  it('the text table aligns its columns', () => {
    const lines = renderText(ingest).split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[1]!.indexOf('20')).toBe(lines[0]!.indexOf('sessions'));
  });

  it('the SVG has one bar per cell, scaled within its group, and escapes the title', () => {
    const svg = renderSvg(ingest, 'Ingest <one core> & more');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('Ingest &lt;one core&gt; &amp; more');
    const widths = [...svg.matchAll(/<rect x="110" y="\d+" width="(\d+)"/g)].map((m) => Number(m[1]));
    // Haraka's median 2,250 of bare discard's 5,000: 189 of 420 pixels; a group's own scale.
    expect(widths).toEqual([420, 189, 105, 0]);
    expect(svg).toContain('failed');
    expect(svg.trim().endsWith('</svg>')).toBe(true);
  });
});

describe('findKnee', () => {
  it('is between the last rate kept up with and the first missed', () => {
    expect(findKnee([step(50, 50, 0), step(100, 99, 10), step(200, 150, 900)])).toBe(
      'between 100 and 200 msg/s',
    );
  });
  it('says so when every rate or none was kept up with', () => {
    expect(findKnee([step(50, 50, 0), step(100, 100, 0)])).toMatch(/above 100/);
    expect(findKnee([step(50, 30, 0)])).toMatch(/below 50/);
    expect(findKnee([])).toBe('not measured');
  });
  it('a backlog of more than a second of mail is not keeping up', () => {
    expect(findKnee([step(50, 50, 0), step(100, 100, 101)])).toBe('between 50 and 100 msg/s');
  });
});

describe('greetAtOnce (the bare baselines)', () => {
  it("takes out smtp-server's 100 ms pause: the 220 comes with no timer run", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
    });
    greetAtOnce(server);
    try {
      const port = await new Promise<number>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve((server.server.address() as AddressInfo).port)),
      );
      const greeting = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        socket.setEncoding('latin1');
        socket.once('data', (chunk: string) => {
          socket.destroy();
          resolve(chunk);
        });
        socket.on('error', reject);
      });
      expect(greeting).toMatch(/^220 /);
    } finally {
      vi.useRealTimers();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('treeCpuTicks', () => {
  it("counts a process's live descendants, and keeps counting a child once it has ended and been waited for", async () => {
    // A parent that starts a child burning 300 ms of CPU, tells us both pids, and lets the child end (and
    // waits for it) when told.
    const burner =
      'const t=process.cpuUsage();while((process.cpuUsage(t).user+process.cpuUsage(t).system)<300000){}' +
      "process.stdout.write('burned\\n');process.stdin.resume();process.stdin.on('end',()=>process.exit(0));";
    const parentScript =
      "const {spawn}=require('node:child_process');" +
      `const c=spawn(process.execPath,['-e',${JSON.stringify(burner)}],{stdio:['pipe','pipe','inherit']});` +
      "c.stdout.once('data',()=>process.stdout.write(JSON.stringify({child:c.pid})+'\\n'));" +
      "process.stdin.once('data',()=>c.stdin.end());c.on('exit',()=>process.stdout.write('reaped\\n'));" +
      'process.stdin.resume();';
    const parent = spawn(process.execPath, ['-e', parentScript], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: string[] = [];
    let text = '';
    parent.stdout!.setEncoding('utf8');
    parent.stdout!.on('data', (chunk: string) => {
      text += chunk;
      lines.push(...text.split('\n').slice(0, -1));
      text = text.split('\n').at(-1)!;
    });
    try {
      await vi.waitFor(() => expect(lines.some((l) => l.startsWith('{'))).toBe(true), { timeout: 60_000 });
      const { child } = JSON.parse(lines.find((l) => l.startsWith('{'))!) as { child: number };
      // Each reading is taken after the ones it is compared with: CPU time only grows.
      const childTicks = cpuTicks(child)!;
      const parentTicks = cpuTicks(parent.pid!)!;
      const whileAlive = treeCpuTicks(parent.pid!)!;
      expect(childTicks).toBeGreaterThanOrEqual(20); // 300 ms at 100 ticks/s, give or take a tick
      expect(whileAlive).toBeGreaterThanOrEqual(childTicks + parentTicks);
      parent.stdin!.write('go\n');
      await vi.waitFor(() => expect(lines).toContain('reaped'), { timeout: 60_000 });
      expect(cpuTicks(child)).toBeNull();
      expect(treeCpuTicks(parent.pid!)!).toBeGreaterThanOrEqual(whileAlive);
    } finally {
      parent.kill();
    }
    expect(treeCpuTicks(2 ** 22 + 12345)).toBeNull();
  });
});
