import { constants, setPriority } from 'node:os';
import type { Worker } from 'node:worker_threads';
import {
  errorText,
  type Logger,
  PostBatcher,
  startModuleWorker,
  transferable,
  transferableCopy,
  unbatch,
} from '../kernel/index.ts';
import { PipelineError } from './errors.ts';
import type { PipelineEvent } from './events.ts';
import type { MessageInput } from './process-message.ts';
import type {
  FromProcessingWorker,
  MessageProcessor,
  RunResult,
  ToProcessingWorker,
} from './processing-protocol.ts';
import type { Arrival } from './record-arrival.ts';

export interface ProcessingPoolOptions {
  /** Worker threads (at least 1), started on the first message. */
  size: number;
  /**
   * The worker's module (a file URL): it calls `serveProcessing` (processing-worker-host.ts) with its ports.
   * A `.ts` module is loaded through tsx.
   */
  entry: string;
  /** Given to each worker as `workerData.data` when it starts (the config file, the data folder, …). */
  data: () => unknown;
  /** Sent with each message (structured-cloned): what may change while a worker runs. @default null */
  context?: () => unknown;
  /** Receives the workers' pipeline events, in the order each worker emitted them. */
  emit: (event: PipelineEvent) => void;
  logger: Logger;
  /** V8 heap (old generation) of each worker, in MiB. @default 512 */
  heapMb?: number;
  /**
   * V8 young generation of each worker, in MiB (three times one semi-space). Left to V8, it is 48 on a
   * 64-bit machine with a few GiB of memory, and a worker keeps the 32 MiB of semi-spaces that loading its
   * modules grew committed while idle; a message's short-lived objects need far less. @default 12
   */
  youngHeapMb?: number;
  /**
   * Scheduling priority (nice value, -20…19) of the worker threads where the system lets a thread have its
   * own (Linux): below the SMTP thread's by default, so that on a busy core taking mail (and answering
   * `250`) comes first and processing uses what is left. null leaves it as the process's.
   * @default os.constants.priority.PRIORITY_BELOW_NORMAL (10)
   */
  threadPriority?: number | null;
}

interface Job {
  /** null for an `arrive` job. */
  resolve: (result: RunResult | null) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker;
  /** What this turn posts to the worker, sent as one message at its end. */
  out: PostBatcher<ToProcessingWorker>;
  jobs: Map<number, Job>;
  stopped: boolean;
  closed: Promise<void>;
}

/**
 * Runs `processMessage` in worker threads, off the SMTP event loop. Each worker builds its own processing
 * ports (its own SQLite connection) from the same config; its events and log lines come back here. A
 * message goes to the worker with the fewest messages; a worker that dies fails its messages with a
 * retryable {@link PipelineError} (the driver runs them again: they are recorded, and deliveries already
 * done are skipped) and the next message starts a new one.
 */
export class ProcessingPool implements MessageProcessor {
  readonly #options: ProcessingPoolOptions;
  readonly #slots: Slot[] = [];
  /** The worker an accepted message was recorded in, until its run goes to the same one. */
  readonly #homes = new Map<string, Slot>();
  #nextJob = 0;
  #closed = false;

  constructor(options: ProcessingPoolOptions) {
    this.#options = { ...options, size: Math.max(1, Math.floor(options.size)) };
  }

  /** Starts every worker now (each loads the config: the first messages need not wait for that). */
  warm(): void {
    while (!this.#closed && this.#slots.length < this.#options.size) this.#spawn();
  }

  /**
   * Processes one message in a worker. Its bytes are copied once and the copy is transferred: the caller's
   * buffer may be shared (the raw store's journal keeps the same bytes until it writes them out). Bytes
   * handed over (`handOver`) that fill their own ArrayBuffer are transferred as they are, without a copy:
   * `input.raw` is left empty once posted, at the end of this turn (a big message is never held twice).
   */
  run(input: MessageInput, options: { handOver?: boolean } = {}): Promise<RunResult> {
    if (this.#closed) return Promise.reject(new PipelineError('the processing pool is closed'));
    const { id, envelope, auth, receivedAt, only } = input;
    const home = this.#homes.get(id);
    this.#homes.delete(id);
    // Its record may not be written yet: the caller records it itself and runs it again.
    if (home?.stopped) return Promise.reject(new PipelineError('the worker recording the message stopped'));
    const slot = home ?? this.#pick();
    const job = ++this.#nextJob;
    const raw = options.handOver ? transferable(input.raw) : transferableCopy(input.raw);
    return new Promise<RunResult>((resolve, reject) => {
      slot.jobs.set(job, { resolve: (result) => resolve(result as RunResult), reject });
      const msg: ToProcessingWorker = {
        type: 'run',
        job,
        context: this.#options.context?.() ?? null,
        input: { id, raw, envelope, auth, receivedAt, ...(only === undefined ? {} : { only }) },
      };
      this.#post(slot, msg, [raw]);
    });
  }

  /**
   * Records an accepted message as received in a worker (the one its run will go to). Rejects (retryable)
   * when the worker could not: the caller records it itself.
   */
  recordArrival(arrival: Arrival): Promise<void> {
    if (this.#closed) return Promise.reject(new PipelineError('the processing pool is closed'));
    const slot = this.#pick();
    const job = ++this.#nextJob;
    this.#homes.set(arrival.id, slot);
    return new Promise<void>((resolve, reject) => {
      slot.jobs.set(job, { resolve: () => resolve(), reject });
      this.#post(slot, { type: 'arrive', job, arrival });
    });
  }

  /** Workers running, and messages in them. */
  stats(): { workers: number; running: number } {
    return { workers: this.#slots.length, running: this.#slots.reduce((n, s) => n + s.jobs.size, 0) };
  }

  /**
   * Lets running messages finish (deliveries not yet run are left pending, as in-process), then ends the
   * workers. Later runs are refused.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#homes.clear();
    await Promise.all(
      [...this.#slots].map(async (slot) => {
        this.#post(slot, { type: 'close' });
        slot.out.flush(); // at once: the pool stops with this turn
        await slot.closed;
        await this.#stop(slot, 'the processing pool is closed');
      }),
    );
  }

  #pick(): Slot {
    const idle = this.#slots.find((s) => s.jobs.size === 0);
    if (idle) return idle;
    if (this.#slots.length < this.#options.size) return this.#spawn();
    return this.#slots.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
  }

  #spawn(): Slot {
    const worker = startModuleWorker(this.#options.entry, {
      data: this.#options.data(),
      resourceLimits: {
        maxOldGenerationSizeMb: this.#options.heapMb ?? 512,
        maxYoungGenerationSizeMb: this.#options.youngHeapMb ?? 12,
      },
    });
    let closed = () => {};
    const slot: Slot = {
      worker,
      out: new PostBatcher<ToProcessingWorker>(worker, (err, msg) => {
        if (msg.type !== 'close')
          this.#fail(slot, msg.job, `could not send to the worker: ${errorText(err)}`);
      }),
      jobs: new Map(),
      stopped: false,
      closed: new Promise<void>((resolve) => {
        closed = resolve;
      }),
    };
    worker.on('message', (data: FromProcessingWorker | FromProcessingWorker[]) => {
      for (const msg of unbatch(data)) {
        if (msg.type === 'closed') closed();
        else this.#onMessage(slot, msg);
      }
    });
    worker.once('exit', () => closed());
    worker.on('error', (err) => void this.#stop(slot, `processing worker failed: ${errorText(err)}`));
    worker.on('exit', (code) => void this.#stop(slot, `processing worker exited with code ${code}`));
    this.#slots.push(slot);
    return slot;
  }

  #onMessage(slot: Slot, msg: Exclude<FromProcessingWorker, { type: 'closed' }>): void {
    switch (msg.type) {
      case 'event':
        this.#options.emit(msg.event);
        break;
      case 'log':
        this.#options.logger[msg.level](msg.message, msg.data);
        break;
      case 'done': {
        const job = slot.jobs.get(msg.job);
        slot.jobs.delete(msg.job);
        job?.resolve(msg.result);
        break;
      }
      case 'arrived':
        if (msg.error === undefined) {
          const job = slot.jobs.get(msg.job);
          slot.jobs.delete(msg.job);
          job?.resolve(null);
        } else this.#fail(slot, msg.job, `recording the message in the worker failed: ${msg.error}`);
        break;
      case 'broken':
        void this.#stop(slot, `processing worker could not start: ${msg.message}`);
        break;
      case 'ready':
        if (msg.tid !== undefined) this.#lowerPriority(msg.tid);
        break;
    }
  }

  /** Gives a worker thread the configured scheduling priority; where the system refuses, it keeps its own. */
  #lowerPriority(tid: number): void {
    const priority =
      this.#options.threadPriority === undefined
        ? constants.priority.PRIORITY_BELOW_NORMAL
        : this.#options.threadPriority;
    if (priority === null) return;
    try {
      setPriority(tid, priority);
    } catch (err) {
      this.#options.logger.debug('could not lower the processing thread priority', { error: errorText(err) });
    }
  }

  #post(slot: Slot, msg: ToProcessingWorker, transfer: ArrayBuffer[] = []): void {
    if (slot.stopped) {
      if (msg.type !== 'close') this.#fail(slot, msg.job, 'the processing worker stopped');
      return;
    }
    slot.out.post(msg, transfer);
  }

  #fail(slot: Slot, job: number, reason: string): void {
    const entry = slot.jobs.get(job);
    slot.jobs.delete(job);
    entry?.reject(new PipelineError(reason));
  }

  /** Ends a worker (once): its messages fail with `reason` (retryable); the next message starts a new one. */
  async #stop(slot: Slot, reason: string): Promise<void> {
    if (slot.stopped) return;
    slot.stopped = true;
    const at = this.#slots.indexOf(slot);
    if (at >= 0) this.#slots.splice(at, 1);
    if (slot.jobs.size > 0 && !this.#closed) this.#options.logger.error(reason, { messages: slot.jobs.size });
    for (const job of [...slot.jobs.keys()]) this.#fail(slot, job, reason);
    await slot.worker.terminate();
  }
}
