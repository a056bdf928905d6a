import type { AuthVerdicts } from '../auth/index.ts';
import type { Envelope } from '../kernel/index.ts';
import type { MessageStatus } from '../store/index.ts';
import type { PipelineEvent } from './events.ts';
import type { MessageInput } from './process-message.ts';
import type { Arrival } from './record-arrival.ts';

/** One message as a processing worker receives it: `raw` is transferred, not copied. */
export interface WorkerJob {
  id: string;
  raw: ArrayBuffer;
  envelope: Envelope;
  auth: AuthVerdicts | null;
  receivedAt: string;
  only?: string;
}

/** What became of a message run in a worker (the parts the driver acts on). */
export interface RunResult {
  status: MessageStatus;
  /** The store refused to record the outcome: the driver runs the message again. */
  unrecorded?: boolean;
}

/** Runs the processing core somewhere else than the driver's thread (see `ProcessingPool`). */
export interface MessageProcessor {
  /**
   * Processes one message; rejects (retryable) when it could not be run to an outcome. `handOver`: the
   * input's bytes are the caller's alone (no store or other caller holds them) and it does not read them
   * again, so the processor may take them over instead of copying them (a worker pool transfers them to
   * the worker; `input.raw` is then left empty).
   */
  run(input: MessageInput, options?: { handOver?: boolean }): Promise<RunResult>;
  /**
   * Records an accepted message as received (the record, its trace entry and verdicts, the
   * `message.received` event) where it will be processed, so that the thread taking mail never waits for
   * the database. A later `run` of the same id waits for it (the caller need not), and ends `unrecorded`
   * when it could not be recorded. Rejects when it could not be recorded there: the caller records it.
   */
  recordArrival?(arrival: Arrival): Promise<void>;
  /** Lets running messages finish with their deliveries left pending, then stops. */
  close(): Promise<void>;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Messages from the pool to a processing worker. */
export type ToProcessingWorker =
  /** `context`: the pool's `context()` now (what may change after the worker started, e.g. a server's URL). */
  | { type: 'run'; job: number; input: WorkerJob; context: unknown }
  /** Record an accepted message as received (see `MessageProcessor.recordArrival`). */
  | { type: 'arrive'; job: number; arrival: Arrival }
  /** Stop taking work: retry waits end, running messages finish with their deliveries left pending. */
  | { type: 'close' };

/** Messages from a processing worker to the pool. */
export type FromProcessingWorker =
  /** `tid`: the worker's thread id in the kernel (Linux), to lower its scheduling priority. */
  | { type: 'ready'; tid?: number }
  /** Building the worker's ports failed: it cannot process anything. */
  | { type: 'broken'; message: string }
  | { type: 'event'; event: PipelineEvent }
  | { type: 'log'; level: LogLevel; message: string; data?: Record<string, unknown> }
  | { type: 'done'; job: number; result: RunResult }
  /** An `arrive` job ended: recorded, or `error` says why not. */
  | { type: 'arrived'; job: number; error?: string }
  | { type: 'closed' };
