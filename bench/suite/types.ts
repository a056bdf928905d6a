/** The servers the ingest matrix drives, in the order they appear in the table. */
export const SERVER_NAMES = [
  'smtp-sink',
  'bare-discard',
  'bare-fsync',
  'haraka',
  'postfix',
  'mailroom',
  'mailroom-1w',
] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

/**
 * Messages each ingest server takes, unmeasured, before the first cell: a running MX is warm. A cold
 * `mailroom smtp` (3,000 × 1 KB, 20 sessions) ran at 339, then 704, then 882 msg/s: V8 optimising the
 * TypeScript-compiled paths and the SQLite WAL growing to its working size take a few thousand messages.
 */
export const INGEST_WARM_UP_MESSAGES = 3000;

/** The parts of one run besides the ingest matrix. */
export const PART_NAMES = ['ingest', 'processing', 'latency', 's3'] as const;
export type PartName = (typeof PART_NAMES)[number];

/** `reuse`: every session sends all its messages over one connection (`smtp-source -d`); `new`: one each. */
export type ConnectionMode = 'reuse' | 'new';

export interface IngestCell {
  server: ServerName;
  sessions: number;
  /** Message payload in bytes (`smtp-source -l`). */
  size: number;
  mode: ConnectionMode;
  /** Messages per run. */
  messages: number;
  /** msg/s of each round (runs that failed are left out and counted in `failures`). */
  rates: number[];
  /**
   * CPU per message of each round, µs: the server's processes from the run's start until the server had
   * finished with the run's messages (Mailroom's processing, Postfix's queue). Empty when not known.
   */
  cpu: number[];
  failures: string[];
}

export interface ProcessingResult {
  messages: number;
  /** Bytes of each message. */
  size: number;
  /** msg/s from the first `accept()` until every message is processed (durable accept included). */
  mailroom: number[];
  /** msg/s of the accepts alone (the same runs). */
  mailroomAccept: number[];
  /** msg/s of Mailroom's `parseMessage` alone over the same messages (absent in results before it was measured). */
  mailroomParse?: number[];
  /**
   * msg/s from the first `accept()` until every message is processed, with processing in one worker thread
   * (`delivery.workers: 1`) on the same core (absent in results before it was measured).
   */
  mailroomWorker?: number[];
  /** msg/s of `simpleParser` over the same messages, one after another. */
  mailparser: number[];
}

export interface LatencyStep {
  /** The rate the client aimed at, msg/s. */
  rate: number;
  seconds: number;
  sessions: number;
  /** Messages answered 250 during the step. */
  sent: number;
  /** msg/s answered 250. */
  achieved: number;
  /** 250 → `message.processed`, ms, over the messages processed by the end of the step (+ drain). */
  p50: number | null;
  p99: number | null;
  max: number | null;
  /** Messages answered 250 but not yet processed when the load stopped. */
  backlogAtEnd: number;
  /** Seconds the backlog took to empty after the load stopped (null: it did not within the limit). */
  drainSeconds: number | null;
  /** Replies other than 250 (4xx/5xx) and connection errors. */
  errors: number;
}

export interface LatencyResult {
  /** `delivery.workers` of the server of `steady` and `sweep`: 1, the default of `mailroom dev`. */
  workers: number;
  steady: LatencyStep | null;
  /** The same steady step with processing on the SMTP thread (`delivery.workers: 0`), for comparison. */
  steadyWorkers0: LatencyStep | null;
  sweep: LatencyStep[];
  /** Where the server stopped keeping up, in words ("between 200 and 400 msg/s"). */
  knee: string;
}

export interface S3Result {
  messages: number;
  sessions: number;
  size: number;
  /** msg/s of `mailroom smtp --s3-bucket` against s3rver. */
  mailroomS3: number[];
  /** msg/s of bare smtp-server discard in the same rounds (ABBA). */
  bareDiscard: number[];
  failures: string[];
}

export interface MachineFacts {
  cpus: number;
  cpuModel: string;
  loadAverageStart: number[];
  loadAverageEnd: number[];
  platform: string;
  node: string;
  haraka: string | null;
  postfix: string | null;
  mailroomCommit: string | null;
}

export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: MachineFacts;
  /** Servers skipped and why, and other things a reader must know. */
  notices: string[];
  ingest: IngestCell[];
  processing: ProcessingResult | null;
  latency: LatencyResult | null;
  s3: S3Result | null;
}
