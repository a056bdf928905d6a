import { WARM_UP_SECONDS } from './latency.ts';
import { median, ratio } from './stats.ts';
import {
  type BenchResults,
  INGEST_WARM_UP_MESSAGES,
  type IngestCell,
  type LatencyResult,
  type LatencyStep,
  type ProcessingResult,
  type S3Result,
} from './types.ts';

const fmt = (n: number | null, digits = 0) =>
  n === null
    ? '–'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const times = (r: number | null) => (r === null ? '–' : `${r.toFixed(2)}×`);
/** `median (min–max)` of some rates; `–` for none. */
export const spread = (rates: readonly number[]) =>
  rates.length === 0 ? '–' : `${fmt(median(rates))} (${fmt(Math.min(...rates))}–${fmt(Math.max(...rates))})`;
export const sizeLabel = (bytes: number) => (bytes >= 1024 ? `${Math.round(bytes / 1024)} KB` : `${bytes} B`);
const modeLabel = (mode: IngestCell['mode']) => (mode === 'reuse' ? 'reuse' : 'new conn.');

/** The cell's key without the server: the servers of one key ran side by side. */
export const cellKey = (c: Pick<IngestCell, 'sessions' | 'size' | 'mode'>) =>
  `${c.sessions}/${c.size}/${c.mode}`;

/** The same group's cell of `server`. */
function peer(cells: readonly IngestCell[], of: IngestCell, server: IngestCell['server']): IngestCell | null {
  return cells.find((c) => c.server === server && cellKey(c) === cellKey(of)) ?? null;
}

/**
 * The ingest table's rows: server, sessions, size, mode, median (min–max), × bare discard, × Haraka, CPU µs
 * per message (median), and Haraka's CPU per message divided by this one's (above 1: cheaper than Haraka).
 */
export function ingestRows(cells: readonly IngestCell[]): string[][] {
  return cells.map((c) => {
    const m = median(c.rates);
    const failed = c.failures.length ? ` ⚠ ${c.failures.length} failed` : '';
    const rateOf = (server: IngestCell['server']) => {
      const other = peer(cells, c, server);
      return other ? median(other.rates) : null;
    };
    const cpu = median(c.cpu);
    const harakaCpu = median(peer(cells, c, 'haraka')?.cpu ?? []);
    return [
      c.server,
      String(c.sessions),
      sizeLabel(c.size),
      modeLabel(c.mode),
      `${spread(c.rates)}${failed}`,
      times(ratio(m, rateOf('bare-discard'))),
      times(ratio(m, rateOf('haraka'))),
      fmt(cpu),
      times(ratio(harakaCpu, cpu)),
    ];
  });
}

const INGEST_HEAD = [
  'server',
  'sessions',
  'size',
  'mode',
  'msg/s median (min–max)',
  '× bare discard',
  '× Haraka',
  'CPU µs/msg',
  'CPU × Haraka',
];

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function stepRow(s: LatencyStep): string[] {
  return [
    fmt(s.rate),
    fmt(s.achieved, 1),
    fmt(s.p50, 1),
    fmt(s.p99, 1),
    String(s.backlogAtEnd),
    s.drainSeconds === null ? 'not drained' : `${s.drainSeconds.toFixed(1)} s`,
    String(s.errors),
  ];
}

const STEP_HEAD = [
  'target msg/s',
  'achieved msg/s',
  'p50 ms',
  'p99 ms',
  'backlog at end',
  'drained after',
  'errors',
];

/** How each server greets: it decides the new-connection rows. */
export const GREETING_NOTE =
  'Greeting: every server greets at once, with no early-talker pause: Mailroom with `smtp.greetingDelayMs: 0` ' +
  '(its default is 100 ms), Haraka (queue/discard, no early_talker plugin), Postfix (smtpd, no postscreen), and ' +
  "bare-discard and bare-fsync with smtp-server's fixed 100 ms pause taken out.";

const INGEST_NOTE =
  'bare-discard, bare-fsync: smtp-server alone (greeting at once), discarding or fsyncing each message. ' +
  'mailroom: `greetingDelayMs: 0`, like Haraka and Postfix (no early-talker pause), and `delivery.workers: 0` ' +
  '(processing on the SMTP thread); ' +
  'mailroom-1w: the same with `delivery.workers: 1`, the default (the SMTP thread journals and answers, one ' +
  'thread at a lower priority records and processes; all on the one core). ' +
  "CPU µs/msg: the CPU time of the server's processes (every thread, and the processes they started) from the " +
  "start of a run until the server had finished with its messages (Mailroom's processing and Postfix's queue " +
  'included), per message, median over the rounds; read from /proc in clock ticks, it also holds the few idle ' +
  "ticks while the bench waits for the server to settle. CPU × Haraka: Haraka's CPU per message divided by the " +
  "server's (above 1: cheaper per message than Haraka). Other load on the machine disturbs it less than msg/s.";

function headerSection(r: BenchResults): string[] {
  const m = r.machine;
  const load = (l: number[]) => l.map((n) => n.toFixed(2)).join(' ');
  return [
    `# Mailroom benchmark — ${r.startedAt}`,
    '',
    `\`${r.command}\` · ${m.cpus} CPUs (${m.cpuModel}) · load average ${load(m.loadAverageStart)} at the start, ` +
      `${load(m.loadAverageEnd)} at the end · Node ${m.node} · Haraka ${m.haraka ?? '–'} · ` +
      `Postfix ${m.postfix ?? '–'} · Mailroom ${m.mailroomCommit ?? '–'}`,
    '',
    'Each server pinned to core 0 (`taskset -c 0`), the client (`smtp-source`) to core 1; servers of one row group ran ' +
      'side by side, alternating ABBA per round, after ' +
      `${INGEST_WARM_UP_MESSAGES.toLocaleString('en-US')} unmeasured messages each (warm-up). ` +
      'Ratios are of medians in the same group.',
    '',
    GREETING_NOTE,
    '',
    ...r.notices.map((notice) => `- ${notice}`),
    ...(r.notices.length ? [''] : []),
  ];
}

function processingSection(p: ProcessingResult): string[] {
  const ratioText = times(ratio(median(p.mailroom), median(p.mailparser)));
  return [
    '## Processing',
    '',
    `${p.messages} messages of ${fmt(p.size)} bytes, one core: Mailroom from \`accept()\` to processed (journal, record, parse, ` +
      "authenticate, route, mailbox delivery) vs mailparser `simpleParser` over the same messages. Mailroom's parse " +
      'alone (MIME, charsets, reply text, thread keys, on mailparser) is the ceiling of processing.',
    '',
    table(
      ['side', 'msg/s median (min–max)', 'ratio'],
      [
        ['mailroom (accept → processed)', spread(p.mailroom), ratioText],
        ...(p.mailroomWorker?.length
          ? [
              [
                'mailroom, processing in 1 worker thread (`delivery.workers: 1`)',
                spread(p.mailroomWorker),
                times(ratio(median(p.mailroomWorker), median(p.mailparser))),
              ],
            ]
          : []),
        ['mailroom accept alone', spread(p.mailroomAccept), '–'],
        ...(p.mailroomParse?.length
          ? [
              [
                'mailroom parse alone (`parseMessage`)',
                spread(p.mailroomParse),
                times(ratio(median(p.mailroomParse), median(p.mailparser))),
              ],
            ]
          : []),
        ['mailparser simpleParser', spread(p.mailparser), '1.00×'],
      ],
    ),
    '',
  ];
}

function latencySection(l: LatencyResult): string[] {
  const rows = [
    ...(l.steady ? [[`steady, workers ${l.workers}`, ...stepRow(l.steady)]] : []),
    ...l.sweep.map((s) => [`sweep, workers ${l.workers}`, ...stepRow(s)]),
    ...(l.steadyWorkers0 ? [['steady, workers 0', ...stepRow(l.steadyWorkers0)]] : []),
  ];
  return [
    '## Latency (250 → `message.processed`)',
    '',
    `\`mailroom dev\` pinned to core 0, 20 sessions, the client on core 1; measured after a ${WARM_UP_SECONDS} s ` +
      'warm-up at half the steady rate (start-up: V8 optimising the hot paths, the WAL file growing to size). ' +
      `Processing in ${l.workers} worker thread (\`delivery.workers\`, the default); the last row runs the ` +
      'steady step again on a server with processing on the SMTP thread (`workers: 0`).',
    '',
    table(['step', ...STEP_HEAD], rows),
    '',
    `Knee: ${l.knee}.`,
    '',
  ];
}

function s3Section(s: S3Result): string[] {
  return [
    '## S3 mode',
    '',
    `\`mailroom smtp --s3-bucket\` against s3rver (s3rver on core 1 with the client), ${s.sessions} sessions, ` +
      `${sizeLabel(s.size)}, ${s.messages} messages per run.`,
    '',
    table(
      ['server', 'msg/s median (min–max)', '× bare discard'],
      [
        [
          'mailroom smtp (S3)',
          spread(s.mailroomS3),
          times(ratio(median(s.mailroomS3), median(s.bareDiscard))),
        ],
        ['bare-discard', spread(s.bareDiscard), '1.00×'],
      ],
    ),
    ...(s.failures.length ? ['', `Failed runs: ${s.failures.join('; ')}`] : []),
    '',
  ];
}

/** bench/results/latest.md: the ingest table and the other parts, with the machine facts. */
export function renderMarkdown(r: BenchResults): string {
  const out = headerSection(r);
  if (r.ingest.length)
    out.push('## Ingest', '', INGEST_NOTE, '', table(INGEST_HEAD, ingestRows(r.ingest)), '');
  if (r.processing) out.push(...processingSection(r.processing));
  if (r.latency) out.push(...latencySection(r.latency));
  if (r.s3) out.push(...s3Section(r.s3));
  return `${out.join('\n')}\n`;
}

/** The ingest table as plain text for the terminal. */
export function renderText(cells: readonly IngestCell[]): string {
  const rows = [INGEST_HEAD, ...ingestRows(cells)];
  const widths = INGEST_HEAD.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ')).join('\n');
}

const COLORS: Record<IngestCell['server'], string> = {
  'smtp-sink': '#9e9e9e',
  'bare-discard': '#64b5f6',
  'bare-fsync': '#1565c0',
  haraka: '#ffb74d',
  postfix: '#a1887f',
  mailroom: '#d81b60',
  'mailroom-1w': '#8e24aa',
};

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * bench/results/latest.svg: one group of horizontal bars per (sessions, size, mode), one bar per server,
 * each group scaled to its own largest median (the label gives the figure). Hand-written SVG.
 */
export function renderSvg(cells: readonly IngestCell[], title: string): string {
  const groups = [...new Set(cells.map(cellKey))];
  const bar = 16;
  const labelW = 110;
  const chartW = 420;
  const rows: string[] = [];
  let y = 40;
  for (const key of groups) {
    const members = cells.filter((c) => cellKey(c) === key);
    const first = members[0]!;
    const top = Math.max(1, ...members.map((c) => median(c.rates) ?? 0));
    rows.push(
      `<text x="8" y="${y + 12}" font-weight="bold">${first.sessions} session${first.sessions === 1 ? '' : 's'}, ${sizeLabel(first.size)}, ${escapeXml(modeLabel(first.mode))}</text>`,
    );
    y += 20;
    for (const c of members) {
      const m = median(c.rates);
      const w = m === null ? 0 : Math.max(1, Math.round((m / top) * chartW));
      rows.push(
        `<text x="${labelW - 6}" y="${y + 12}" text-anchor="end">${c.server}</text>`,
        `<rect x="${labelW}" y="${y}" width="${w}" height="${bar - 2}" fill="${COLORS[c.server]}"/>`,
        `<text x="${labelW + w + 4}" y="${y + 12}">${m === null ? 'failed' : `${fmt(m)} msg/s`}</text>`,
      );
      y += bar;
    }
    y += 12;
  }
  const width = labelW + chartW + 110;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${y + 10}" viewBox="0 0 ${width} ${y + 10}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="8" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
    ...rows,
    '</svg>',
    '',
  ].join('\n');
}
