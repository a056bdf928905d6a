import { readlinkSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { errorText, type Logger } from '../kernel/index.ts';
import type { PipelineEvent } from './events.ts';
import { createProcessingPorts, type ProcessingPortsInput } from './ports.ts';
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

/**
 * The worker side of {@link ProcessingPool}: builds the ports once (`build`, with a logger that reports to
 * the main thread and a getter of the context the latest message came with), then runs `processMessage` for each message it is sent, posting back its events and
 * its outcome. Call once from a worker's entry module.
 */
export async function serveProcessing(
  build: (logger: Logger, context: () => unknown) => Promise<WorkerProcessing>,
): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('serveProcessing runs in a worker thread');
  const send = (msg: FromProcessingWorker) => port.postMessage(msg);
  const logger = postingLogger(send);
  const abort = new AbortController();
  const running = new Set<Promise<void>>();
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

  /** Arrivals being recorded, by message id: a run of the message waits for its arrival. */
  const arriving = new Map<string, Promise<void>>();
  const arrive = async (job: number, arrival: Arrival) => {
    try {
      await recordArrival(ports, arrival);
      send({ type: 'arrived', job });
    } catch (err) {
      send({ type: 'arrived', job, error: errorText(err) });
    }
  };

  const run = async (job: number, input: WorkerJob) => {
    await arriving.get(input.id);
    let result: RunResult;
    try {
      const outcome = await processMessage({ ...input, raw: Buffer.from(input.raw) }, ports);
      result = { status: outcome.status, ...(outcome.unrecorded ? { unrecorded: true } : {}) };
    } catch (err) {
      logger.error('processing failed in the worker', { id: input.id, error: errorText(err) });
      result = { status: 'processing', unrecorded: true };
    }
    send({ type: 'done', job, result });
  };

  port.on('message', (msg: ToProcessingWorker) => {
    if (msg.type === 'arrive') {
      const { id } = msg.arrival;
      const p = arrive(msg.job, msg.arrival).finally(() => {
        running.delete(p);
        if (arriving.get(id) === p) arriving.delete(id);
      });
      running.add(p);
      arriving.set(id, p);
      return;
    }
    if (msg.type === 'run') {
      context = msg.context;
      const p = run(msg.job, msg.input).finally(() => running.delete(p));
      running.add(p);
      return;
    }
    abort.abort();
    void Promise.all(running)
      .then(() => built.close())
      .catch((err) => logger.warn('closing the processing worker failed', { error: errorText(err) }))
      .finally(() => {
        send({ type: 'closed' });
        port.close();
      });
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
