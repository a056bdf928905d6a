import { parseArgs } from 'node:util';
import { type ConnectionMode, PART_NAMES, type PartName, SERVER_NAMES, type ServerName } from './types.ts';

export interface BenchOptions {
  quick: boolean;
  /** Servers of the ingest matrix, in table order. */
  servers: ServerName[];
  parts: PartName[];
  rounds: number;
  /**
   * Messages per run for 20 sessions, 1 KB, connection reuse; 100 KB runs send a quarter, new-connection
   * runs half, one-session runs a quarter (see {@link messagesFor}).
   */
  messages: number;
  sessions: number[];
  sizes: number[];
  modes: ConnectionMode[];
  /** Messages of the processing comparison. */
  processingMessages: number;
  latencySeconds: number;
  latencyRate: number;
  sweepRates: number[];
  sweepSeconds: number;
  /** Where results go. */
  out: string;
}

export class BenchUsageError extends Error {}

export const USAGE = `npm run bench -- [options]
  --quick                 a short run: every part, few messages, short latency steps (about 5 minutes)
  --only LIST             servers of the ingest matrix (${SERVER_NAMES.join(',')})
  --parts LIST            parts to run (${PART_NAMES.join(',')}; default all)
  --rounds N              runs per server and cell, alternating ABBA (default 3; quick 2)
  --messages N            messages per run at 20 sessions, 1 KB, reuse (default 3000; quick 600)
  --sessions LIST         parallel sessions (default 1,20)
  --sizes LIST            payload bytes (default 1024,102400)
  --modes LIST            reuse,new (connection reuse / a new connection per message)
  --processing-messages N messages of the processing comparison (default 600; quick 300)
  --latency-seconds N     the steady 100 msg/s step (default 60; quick 10)
  --latency-rate N        its rate (default 100)
  --sweep LIST            rates of the sweep (default 50,100,200,400)
  --sweep-seconds N       seconds per sweep step (default 10; quick 4)
  --out DIR               where results go (default bench/results)`;

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0)
    throw new BenchUsageError(`--${name}: not a positive whole number: ${text}`);
  return n;
}

function intList(name: string, text: string): number[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === '')) throw new BenchUsageError(`--${name}: empty item`);
  return items.map((s) => positiveInt(name, s));
}

function nameList<T extends string>(name: string, text: string, known: readonly T[]): T[] {
  const items = text.split(',').map((s) => s.trim());
  for (const item of items) {
    if (!(known as readonly string[]).includes(item)) {
      throw new BenchUsageError(`--${name}: unknown '${item}' (known: ${known.join(', ')})`);
    }
  }
  // Table order, no duplicates.
  return known.filter((k) => items.includes(k));
}

/** Parses the command line of `npm run bench` (without node and the script). */
export function parseBenchArgs(argv: string[]): BenchOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        only: { type: 'string' },
        parts: { type: 'string' },
        rounds: { type: 'string' },
        messages: { type: 'string' },
        sessions: { type: 'string' },
        sizes: { type: 'string' },
        modes: { type: 'string' },
        'processing-messages': { type: 'string' },
        'latency-seconds': { type: 'string' },
        'latency-rate': { type: 'string' },
        sweep: { type: 'string' },
        'sweep-seconds': { type: 'string' },
        out: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new BenchUsageError(err instanceof Error ? err.message : String(err));
  }
  const quick = values.quick === true;
  const str = (key: string): string | undefined => {
    const v = values[key];
    return typeof v === 'string' ? v : undefined;
  };
  const int = (key: string, normal: number, short: number) => {
    const text = str(key);
    return text === undefined ? (quick ? short : normal) : positiveInt(key, text);
  };
  const only = str('only');
  const parts = str('parts');
  const sessions = str('sessions');
  const sizes = str('sizes');
  const modes = str('modes');
  const sweep = str('sweep');
  return {
    quick,
    servers: only === undefined ? [...SERVER_NAMES] : nameList('only', only, SERVER_NAMES),
    parts: parts === undefined ? [...PART_NAMES] : nameList('parts', parts, PART_NAMES),
    rounds: int('rounds', 3, 2),
    messages: int('messages', 3000, 600),
    sessions: sessions === undefined ? [1, 20] : intList('sessions', sessions),
    sizes: sizes === undefined ? [1024, 102_400] : intList('sizes', sizes),
    modes: modes === undefined ? ['reuse', 'new'] : nameList('modes', modes, ['reuse', 'new'] as const),
    processingMessages: int('processing-messages', 600, 300),
    latencySeconds: int('latency-seconds', 60, 10),
    latencyRate: int('latency-rate', 100, 100),
    sweepRates: sweep === undefined ? [50, 100, 200, 400] : intList('sweep', sweep),
    sweepSeconds: int('sweep-seconds', 10, 4),
    out: str('out') ?? 'bench/results',
  };
}

/**
 * Messages of one run: `--messages` at 20 sessions, 1 KB, reuse; a quarter for 100 KB and more, an eighth for
 * a new connection each, a quarter for one session (such runs are slower per message, and what a run pays
 * once — starting smtp-source, opening the sessions, the last replies — is a smaller part of them). Never
 * under 20.
 *
 * A run must be long beside what it pays once: at 600 messages, 20 sessions of a fast server (8,000 msg/s)
 * finish in 75 ms, and a fixed 10 ms moved its figure by an eighth.
 */
export function messagesFor(
  options: Pick<BenchOptions, 'messages'>,
  size: number,
  mode: ConnectionMode,
  sessions: number,
): number {
  let n = options.messages;
  if (size >= 50_000) n = Math.floor(n / 4);
  if (mode === 'new') n = Math.floor(n / 8);
  if (sessions === 1) n = Math.floor(n / 4);
  return Math.max(20, n);
}
