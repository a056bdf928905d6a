import { readlinkSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { errorText, type Logger, PostBatcher, unbatch } from '../kernel/index.ts';
import type { PipelineEvent } from './events.ts';
import { createProcessingPorts, type ProcessingPorts, type ProcessingPortsInput } from './ports.ts';
import { processMessage } from './process-message.ts';
import type {
  FromProcessingWorker,
  LogLevel,
  RunResult,
  ToProcessingWorker,
  WorkerJob,
} from './processing-protocol.ts';
import { type Arrival, recordArrival } from './record-arrival.ts';

/** What a processing worker builds for itself: its ports' input, and how to close what it opened. */
export interface WorkerProcessing {
  ports: Omit<ProcessingPortsInput, 'signal' | 'emit' | 'logger'>;
  close(): Promise<void>;
}

/** A logger whose lines are logged by the pool's logger in the main thread. */
function postingLogger(send: (msg: FromProcessingWorker) => void): Logger {
  const log = (level: LogLevel) => (message: string, data?: Record<string, unknown>) =>
    send({ type: 'log', level, message, ...(data === undefined ? {} : { data }) });
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** What one processing worker is running: arrivals being recorded and messages being processed. */
class WorkerJobs {
  readonly #ports: ProcessingPorts;
  readonly #send: (msg: FromProcessingWorker) => void;
  readonly #running = new Set<Promise<void>>();
  /** Arrivals being recorded, by message id: a run of the message waits for its arrival. */
  readonly #arriving = new Map<string, Promise<void>>();
  /**
   * Messages this worker could not record, until their run comes: the pool records them on its own
   * thread, so their run here ends unrecorded, and the pool runs them again once they are recorded.
   */
  readonly #unrecorded = new Set<string>();

  constructor(ports: ProcessingPorts, send: (msg: FromProcessingWorker) => void) {
    this.#ports = ports;
    this.#send = send;
  }

  arrive(job: number, arrival: Arrival): void {
    const { id } = arrival;
    const p = this.#track(
      recordArrival(this.#ports, arrival).then(
        () => this.#send({ type: 'arrived', job }),
        (err) => {
          this.#unrecorded.add(id);
          this.#send({ type: 'arrived', job, error: errorText(err) });
        },
      ),
    ).finally(() => {
      if (this.#arriving.get(id) === p) this.#arriving.delete(id);
    });
    this.#arriving.set(id, p);
  }

  run(job: number, input: WorkerJob): void {
    this.#track(this.#run(job, input));
  }

  /** Resolves once everything running has finished. */
  async idle(): Promise<void> {
    await Promise.all(this.#running);
  }

  async #run(job: number, input: WorkerJob): Promise<void> {
    await this.#arriving.get(input.id);
    if (this.#unrecorded.delete(input.id)) {
      this.#send({ type: 'done', job, result: { status: 'received', unrecorded: true } });
      return;
    }
    let result: RunResult;
    try {
      const outcome = await processMessage({ ...input, raw: Buffer.from(input.raw) }, this.#ports);
      result = { status: outcome.status, ...(outcome.unrecorded ? { unrecorded: true } : {}) };
    } catch (err) {
      this.#ports.logger.error('processing failed in the worker', { id: input.id, error: errorText(err) });
      result = { status: 'processing', unrecorded: true };
    }
    this.#send({ type: 'done', job, result });
  }

  #track(work: Promise<void>): Promise<void> {
    const p = work.finally(() => this.#running.delete(p));
    this.#running.add(p);
    return p;
  }
}

/**
 * The worker side of {@link ProcessingPool}: builds the ports once (`build`, with a logger that reports to
 * the main thread and a getter of the context the latest message came with), then records the arrivals and
 * runs `processMessage` for the messages it is sent, posting back their events and outcomes. Call once from
 * a worker's entry module.
 */
export async function serveProcessing(
  build: (logger: Logger, context: () => unknown) => Promise<WorkerProcessing>,
): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('serveProcessing runs in a worker thread');
  // Events, log lines and outcomes of one turn go to the pool as one message. One that cannot be cloned
  // (a log line's data carrying a function) is dropped, and the pool is told which kind it was.
  const out: PostBatcher<FromProcessingWorker> = new PostBatcher(port, (err, dropped) =>
    out.post({
      type: 'log',
      level: 'warn',
      message: 'a message to the processing pool could not be cloned; dropped',
      data: { type: dropped.type, error: errorText(err) },
    }),
  );
  const send = (msg: FromProcessingWorker) => out.post(msg);
  const logger = postingLogger(send);
  const abort = new AbortController();
  let context: unknown = null;
  let built: WorkerProcessing;
  try {
    built = await build(logger, () => context);
  } catch (err) {
    send({ type: 'broken', message: errorText(err) });
    return;
  }
  const ports = createProcessingPorts({
    ...built.ports,
    logger,
    signal: abort.signal,
    emit: (event: PipelineEvent) => send({ type: 'event', event }),
  });
  const jobs = new WorkerJobs(ports, send);

  const receive = (msg: ToProcessingWorker) => {
    if (msg.type === 'arrive') return jobs.arrive(msg.job, msg.arrival);
    if (msg.type === 'run') {
      context = msg.context;
      return jobs.run(msg.job, msg.input);
    }
    abort.abort();
    void jobs
      .idle()
      .then(() => built.close())
      .catch((err) => logger.warn('closing the processing worker failed', { error: errorText(err) }))
      .finally(() => {
        send({ type: 'closed' });
        out.flush();
        port.close();
      });
  };
  port.on('message', (data: ToProcessingWorker | ToProcessingWorker[]) => {
    for (const msg of unbatch(data)) receive(msg);
  });
  const tid = threadId();
  send(tid === undefined ? { type: 'ready' } : { type: 'ready', tid });
}

/** This thread's id in the kernel (Linux: `/proc/thread-self` → `<pid>/task/<tid>`); undefined elsewhere. */
function threadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}
