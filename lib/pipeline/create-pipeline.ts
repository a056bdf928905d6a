import { DEFAULT_CONCURRENCY } from '../config/index.ts';
import { errorText } from '../kernel/index.ts';
import { type MessageStatus, newMessageId, type RawStore } from '../store/index.ts';
import { backoffDelay } from './backoff.ts';
import { PipelineError } from './errors.ts';
import type { PipelineEvent, PipelineEventListener } from './events.ts';
import { IngestPriorityGate } from './ingest-priority.ts';
import { createProcessingPorts, type ProcessingPorts, type ProcessingPortsInput, trace } from './ports.ts';
import { type MessageInput, type ProcessOutcome, processMessage, recordFailure } from './process-message.ts';
import type { MessageProcessor } from './processing-protocol.ts';
import { cleanEnvelope } from './recipients.ts';
import { type Arrival, recordArrival } from './record-arrival.ts';
import { recordOrphans } from './recover-orphans.ts';
import { type AcceptInput, storeRaw } from './store-raw.ts';
import { WorkQueue } from './work-queue.ts';

export type { AcceptInput } from './store-raw.ts';

/** What the local driver is built from: the processing ports' input (less what it makes itself) and the raw store. */
export interface PipelineDeps extends Omit<ProcessingPortsInput, 'signal' | 'emit' | 'retries'> {
  rawStore: RawStore;
  /**
   * Runs the processing core elsewhere (worker threads: `ProcessingPool`), built with the pipeline's event
   * emitter; closed by `close()`. Accepting, recovery and replays stay here. @default this thread
   */
  processor?: (emit: (event: PipelineEvent) => void) => MessageProcessor;
}

/** What {@link Pipeline.recover} queued. */
export interface RecoveryReport {
  /** Recorded messages whose processing had not finished. */
  resumed: string[];
  /** Raw messages that had no record (crash between storing and recording), now recorded. */
  orphans: string[];
}

export interface Pipeline {
  /**
   * Stores the raw bytes durably (envelope first), records the message as received and queues it.
   * Resolves once the bytes are durable and the record is written (with a processor that records arrivals,
   * `ProcessingPool`, the record is handed to it and written there a moment later): only then may an ingress
   * answer `250`. The raw store is what survives a crash: recovery records any message it holds without one.
   * @throws when storing or recording failed (the ingress answers `451 4.3.0`), or after `close()`.
   */
  accept(input: AcceptInput): Promise<{ id: string }>;
  /**
   * Resolves once the `received` record of a message this pipeline accepted is written, so that the store
   * finds it (at once when it already is, or for an id this pipeline is not recording). Never rejects: a
   * record that could not be written is left to recovery, as `accept` says.
   */
  recorded(id: string): Promise<void>;
  /** Queues one recorded message and resolves with its final status; null for an unknown id. */
  process(id: string): Promise<MessageStatus | null>;
  /**
   * Re-runs a message with the current code and config: failed and pending deliveries are tried again
   * (with a fresh set of attempts); delivered and dropped ones are never repeated. Null for an unknown id.
   */
  replay(id: string): Promise<MessageStatus | null>;
  /**
   * Re-runs one delivery of a message (by its idempotency key) with the current code and config, whatever
   * its status; the message's other deliveries stay as they are (see `MessageInput.only`). Null for an
   * unknown id.
   */
  replayDelivery(id: string, key: string): Promise<MessageStatus | null>;
  /** Replays every failed message. */
  replayFailed(): Promise<Array<{ id: string; status: MessageStatus | null }>>;
  /** Ids of failed messages, oldest first. */
  listFailed(): Promise<string[]>;
  /** Queues every unfinished message and every raw message without a record. Call once at start. */
  recover(): Promise<RecoveryReport>;
  /** Resolves once the queue is empty and no message is being processed. */
  drain(): Promise<void>;
  /**
   * Stops taking work: waiting messages stay unfinished (recovered next start), retry waits end at once,
   * actions already running finish. Does not close the stores (the caller owns them).
   */
  close(): Promise<void>;
  /** Subscribes to pipeline events; returns the unsubscribe function. */
  onEvent(listener: PipelineEventListener): () => void;
}

/** Bytes of accepted messages held in memory for processing (instead of read back from the raw store). */
const IN_HAND_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Bytes of the messages being processed at once (their raw size; a parse holds a few times that). Up to
 * `delivery.concurrency` small messages run together, fewer big ones: a burst of 25 MB messages never has
 * more than about this much in processing, however high the concurrency.
 */
const PROCESSING_MAX_BYTES = 64 * 1024 * 1024;
/**
 * What a message not held in memory (queued by id for recovery or a replay, or streamed in over
 * {@link IN_HAND_MAX_STREAMED_BYTES}) counts against {@link PROCESSING_MAX_BYTES}, its size unread: a quarter,
 * so four of them run at once.
 */
const UNKNOWN_SIZE_BYTES = PROCESSING_MAX_BYTES / 4;
/**
 * The biggest streamed message held in memory for processing (the raw store's journal limit). A bigger one
 * is written to its own file as it arrives; gathering it here as well would hold it whole twice (its chunks,
 * then their concatenation) until it is processed. It is read back from its file when its turn comes.
 */
const IN_HAND_MAX_STREAMED_BYTES = 1024 * 1024;

/** A message accepted and waiting for processing, with its bytes. */
interface InHand {
  input: MessageInput;
  /** Whether the bytes are the pipeline's own copy (see `StoredRaw.owned`): a processor may take them over. */
  owned: boolean;
}

/**
 * The local driver of the processing core: accept (durable bytes, the `received` record) → an in-process
 * work queue of ids → {@link processMessage}. An accepted message is processed with the bytes it arrived
 * with (one streamed in over {@link IN_HAND_MAX_STREAMED_BYTES} is read back from the raw store); a message
 * queued by id (recovery after a crash, a replay) is loaded once from the stores.
 */
class LocalPipeline implements Pipeline {
  readonly #deps: PipelineDeps;
  readonly #ports: ProcessingPorts;
  readonly #listeners = new Set<PipelineEventListener>();
  readonly #abort = new AbortController();
  readonly #queue: WorkQueue<MessageStatus | null>;
  readonly #gate: IngestPriorityGate;
  readonly #processor: MessageProcessor | null;
  /** Ids between raw put and record, so `recover()` does not take them for orphans. */
  readonly #accepting = new Set<string>();
  /**
   * Arrivals being recorded by the processor (or, where it could not, on this thread), by id. A message's
   * run waits for its record only when it must read the message back: a message in hand goes to the
   * processor at once, and the processor runs it after its record.
   */
  readonly #arriving = new Map<string, Promise<void>>();
  /** Accepted messages waiting for processing, with their bytes, by id. */
  readonly #inHand = new Map<string, InHand>();
  #inHandBytes = 0;
  /** One-delivery replays waiting for their run: message id → delivery key. */
  readonly #only = new Map<string, string>();
  /**
   * Messages whose outcome the store refused to record (a full disk): run again after a backoff instead of
   * staying `processing` until a restart. By id: the pending timer and the failures in a row.
   */
  readonly #unrecorded = new Map<string, { timer: NodeJS.Timeout; failures: number }>();
  #closed = false;

  constructor(deps: PipelineDeps) {
    this.#deps = deps;
    this.#ports = createProcessingPorts({
      ...deps,
      signal: this.#abort.signal,
      emit: (event) => this.#emit(event),
    });
    this.#processor = deps.processor?.((event) => this.#emit(event)) ?? null;
    const { processingDelayMaxMs } = deps.config.delivery;
    const concurrency =
      deps.config.delivery.concurrency ??
      (this.#processor ? DEFAULT_CONCURRENCY.workerThreads : DEFAULT_CONCURRENCY.smtpThread);
    this.#queue = new WorkQueue(
      {
        concurrency,
        bytes: PROCESSING_MAX_BYTES,
        sizeOf: (id) => this.#inHand.get(id)?.input.raw.length ?? UNKNOWN_SIZE_BYTES,
      },
      (id) => this.#run(id),
      () => this.#gate.settled(),
    );
    this.#gate = new IngestPriorityGate({
      release: (id) => this.#schedule(id),
      load: () => this.#queue.load,
      concurrency,
      maxDelayMs: processingDelayMaxMs,
    });
  }

  #emit(event: PipelineEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.#ports.logger.warn('pipeline event listener threw', { error: errorText(err), type: event.type });
      }
    }
  }

  #retryUnrecorded(id: string): void {
    const failures = (this.#unrecorded.get(id)?.failures ?? 0) + 1;
    clearTimeout(this.#unrecorded.get(id)?.timer);
    const delay = backoffDelay(failures, this.#deps.config.delivery, this.#ports.random);
    const timer = setTimeout(() => {
      if (!this.#closed) this.#schedule(id);
    }, delay);
    timer.unref();
    this.#unrecorded.set(id, { timer, failures });
  }

  #recorded(id: string): void {
    clearTimeout(this.#unrecorded.get(id)?.timer);
    this.#unrecorded.delete(id);
  }

  #schedule(id: string): void {
    this.#queue.push(id).catch((err) => {
      if (this.#closed) return;
      this.#ports.logger.error('queued processing failed; retrying the message', {
        id,
        error: errorText(err),
      });
      this.#retryUnrecorded(id);
    });
  }

  #take(id: string): InHand | undefined {
    const held = this.#inHand.get(id);
    if (!held) return undefined;
    this.#inHand.delete(id);
    this.#inHandBytes -= held.input.raw.length;
    return held;
  }

  /**
   * A message queued by id: its record and its bytes, read once (a buffer of this run's own: see
   * `RawStore.get`); null for an unknown id.
   */
  async #load(id: string): Promise<MessageInput | ProcessOutcome | { status: MessageStatus } | null> {
    const record = await this.#deps.store.getMessage(id);
    if (!record) return null;
    if (this.#abort.signal.aborted) return { status: record.status };
    const { envelope, auth, receivedAt } = record;
    try {
      const raw = await this.#deps.rawStore.get(id);
      return { id, raw, envelope: { ...envelope }, auth, receivedAt };
    } catch (err) {
      return recordFailure(this.#ports, id, `raw message unreadable: ${errorText(err)}`);
    }
  }

  /** The queue's worker: processes one message end to end. Never throws for a known id. */
  async #run(id: string): Promise<MessageStatus | null> {
    const only = this.#only.get(id);
    this.#only.delete(id);
    const held = this.#take(id);
    if (!held) await this.#arriving.get(id);
    const loaded = held?.input ?? (await this.#load(id));
    if (!loaded) return null;
    if (!('raw' in loaded)) return this.#settle(id, loaded);
    if (this.#abort.signal.aborted) return 'received';
    const input = only === undefined ? loaded : { ...loaded, only };
    // Bytes read back, or gathered by storeRaw, are this run's alone: the processor may take them over.
    if (this.#processor) return this.#runElsewhere(this.#processor, input, held?.owned ?? true);
    return this.#settle(id, await processMessage(input, this.#ports));
  }

  /** Runs one message in the processor; one it could not run (a worker died) is run again after a backoff. */
  async #runElsewhere(
    processor: MessageProcessor,
    input: MessageInput,
    owned: boolean,
  ): Promise<MessageStatus> {
    const { id } = input;
    try {
      return this.#settle(id, { id, ...(await processor.run(input, { handOver: owned })) });
    } catch (err) {
      if (this.#closed) return 'processing'; // recovered by the next start
      this.#ports.logger.error('processing did not finish; retrying the message', {
        id,
        error: errorText(err),
      });
      this.#retryUnrecorded(id);
      return 'processing';
    }
  }

  #settle(id: string, outcome: ProcessOutcome | { status: MessageStatus }): MessageStatus {
    if ('unrecorded' in outcome && outcome.unrecorded) this.#retryUnrecorded(id);
    else if ('id' in outcome) this.#recorded(id);
    return outcome.status;
  }

  async accept(input: AcceptInput): Promise<{ id: string }> {
    if (this.#closed) throw new PipelineError('the pipeline is closed');
    const id = newMessageId();
    this.#accepting.add(id);
    this.#gate.arrival();
    try {
      const { size, bytes, owned } = await storeRaw(this.#deps.rawStore, id, input, {
        whole: IN_HAND_MAX_BYTES - this.#inHandBytes,
        streamed: IN_HAND_MAX_STREAMED_BYTES,
      });
      const receivedAt = this.#ports.now().toISOString();
      const arrival: Arrival = { id, envelope: input.envelope, size, receivedAt, auth: input.auth ?? null };
      if (this.#processor?.recordArrival) this.#recordElsewhere(this.#processor, arrival);
      else await recordArrival(this.#ports, arrival);
      if (bytes && !this.#closed) {
        const envelope = cleanEnvelope(input.envelope);
        const held = { id, raw: bytes, envelope, auth: input.auth ?? null, receivedAt };
        this.#inHand.set(id, { input: held, owned });
        this.#inHandBytes += bytes.length;
      }
    } finally {
      this.#accepting.delete(id);
      this.#gate.stored();
    }
    this.#gate.add(id);
    return { id };
  }

  /**
   * The processor records the arrival, without this thread waiting for the database (the raw store holds
   * the message durably: a crash before the record is written leaves an orphan that recovery records).
   * Where the processor cannot, this thread records it; should that fail too, the message waits in the raw
   * store for the next start's recovery.
   */
  #recordElsewhere(processor: MessageProcessor, arrival: Arrival): void {
    const { id } = arrival;
    const recorded = processor.recordArrival!(arrival)
      .catch(async (err) => {
        this.#ports.logger.warn('recording the message in the processor failed; recording it here', {
          id,
          error: errorText(err),
        });
        await recordArrival(this.#ports, arrival);
      })
      .catch((err) => {
        this.#take(id);
        this.#ports.logger.error('message stored but not recorded; the next start recovers it', {
          id,
          error: errorText(err),
        });
      })
      .finally(() => this.#arriving.delete(id));
    this.#arriving.set(id, recorded);
  }

  recorded(id: string): Promise<void> {
    return this.#arriving.get(id) ?? Promise.resolve();
  }

  process(id: string): Promise<MessageStatus | null> {
    return this.#queue.push(id);
  }

  async replay(id: string): Promise<MessageStatus | null> {
    if (!(await this.#deps.store.hasMessage(id))) return null;
    await trace(this.#ports, id, 'replay', 'replay requested');
    return this.#queue.push(id);
  }

  async replayDelivery(id: string, key: string): Promise<MessageStatus | null> {
    if (!(await this.#deps.store.hasMessage(id))) return null;
    await trace(this.#ports, id, 'replay', `replay of delivery ${key} requested`);
    // A run of the message already waiting becomes this one (the queue joins requests for one id); a
    // message accepted but not yet processed runs whole, as its first run must.
    if (!this.#inHand.has(id)) this.#only.set(id, key);
    return this.#queue.push(id);
  }

  replayFailed(): Promise<Array<{ id: string; status: MessageStatus | null }>> {
    return this.#deps.store
      .listFailed()
      .then((ids) => Promise.all(ids.map(async (id) => ({ id, status: await this.replay(id) }))));
  }

  listFailed(): Promise<string[]> {
    return this.#deps.store.listFailed();
  }

  async recover(): Promise<RecoveryReport> {
    const resumed = await this.#deps.store.listUnfinished();
    const orphans = await recordOrphans(this.#ports, this.#deps.rawStore, (id) => this.#accepting.has(id));
    for (const id of [...resumed, ...orphans]) this.#schedule(id);
    if (resumed.length || orphans.length) {
      this.#ports.logger.info('recovering messages', { resumed: resumed.length, orphans: orphans.length });
    }
    return { resumed, orphans };
  }

  drain(): Promise<void> {
    this.#gate.flush();
    return this.#queue.idle();
  }

  async close(): Promise<void> {
    if (this.#closed) return this.#queue.idle();
    this.#closed = true;
    for (const id of [...this.#unrecorded.keys()]) this.#recorded(id);
    this.#gate.clear(); // recorded as received: the next start's recovery processes them
    this.#inHand.clear();
    this.#inHandBytes = 0;
    this.#abort.abort();
    this.#queue.close();
    await Promise.all([this.#queue.idle(), this.#processor?.close()]);
  }

  onEvent(listener: PipelineEventListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }
}

/**
 * The pipeline of every local ingress (SMTP, the dev HTTP API, `mailroom/testing`): accept → store raw →
 * record → queue → the processing core (parse → route → deliver, idempotent, retried with backoff →
 * record outcome and trace).
 */
export function createPipeline(deps: PipelineDeps): Pipeline {
  return new LocalPipeline(deps);
}
