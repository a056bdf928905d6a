import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mailbox } from '../../../lib/actions/builders.ts';
import { resolveConfig } from '../../../lib/config/resolve-config.ts';
import type { MailroomConfig } from '../../../lib/config/types.ts';
import { silentLogger } from '../../../lib/kernel/index.ts';
import {
  type Arrival,
  createPipeline,
  createProcessingPorts,
  type MessageProcessor,
  type Pipeline,
  type PipelineEvent,
  processMessage,
  recordArrival,
} from '../../../lib/pipeline/index.ts';
import type { MessageStore } from '../../../lib/store/index.ts';
import { LocalRawStore } from '../../../lib/store/local-raw-store.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';

/**
 * A processor that records arrivals itself (as `ProcessingPool`'s workers do): the accepting thread then
 * writes nothing to the database, a message's run waits for its record, and an arrival the processor
 * could not record is recorded by the accepting thread.
 */
const RAW = Buffer.from(
  'From: <a@client.test>\r\nTo: <support@example.com>\r\nSubject: hi\r\nMessage-ID: <x@client.test>\r\n\r\nhello\r\n',
);
const ENVELOPE = { mailFrom: 'a@client.test', rcptTo: ['support@example.com'], remoteAddress: '127.0.0.1' };

const WRITES = ['recordArrival', 'recordReceived', 'addTrace', 'saveAuth'] as const;

/** The store with its arrival writes counted (the accepting thread's connection). */
function counted(store: SqliteMessageStore): { store: MessageStore; writes: string[] } {
  const writes: string[] = [];
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if ((WRITES as readonly string[]).includes(String(key))) writes.push(String(key));
        return value.apply(target, args);
      };
    },
  });
  return { store: proxy as MessageStore, writes };
}

describe('a processor that records arrivals', () => {
  let dir: string;
  let config: MailroomConfig;
  let mainStore: SqliteMessageStore;
  let otherStore: SqliteMessageStore;
  let rawStore: LocalRawStore;
  const pipelines: Pipeline[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailroom-arrival-'));
    config = resolveConfig({
      domains: ['example.com'],
      routes: [{ name: 'support', match: 'support@example.com', action: mailbox('support') }],
      delivery: { processingDelayMaxMs: 0, backoffMs: 20, maxBackoffMs: 40 },
    });
    mainStore = new SqliteMessageStore(join(dir, 'mailroom.db'));
    otherStore = new SqliteMessageStore(join(dir, 'mailroom.db')); // the "worker's" own connection
    rawStore = new LocalRawStore(dir);
  });
  afterEach(async () => {
    for (const p of pipelines.splice(0)) await p.close();
    await mainStore.close();
    await otherStore.close();
    await rawStore.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A processor on its own connection; `arrivalGate` holds each arrival until it resolves. `runs`: the
   * size of each run's bytes and whether they were handed over.
   */
  function processor(options: { arrivalGate?: Promise<void>; failArrivals?: boolean } = {}) {
    const log: string[] = [];
    const runs: Array<{ bytes: number; handOver: boolean | undefined }> = [];
    const make = (emit: (event: PipelineEvent) => void): MessageProcessor => {
      const ports = createProcessingPorts({
        config,
        store: otherStore,
        logger: silentLogger,
        signal: new AbortController().signal,
        emit,
      });
      // As a worker does: a run waits for its message's record, and ends unrecorded when there is none.
      const arriving = new Map<string, Promise<boolean>>();
      return {
        async recordArrival(arrival: Arrival) {
          log.push(`arrive ${arrival.id}`);
          const recording = (async () => {
            await options.arrivalGate;
            if (options.failArrivals) throw new Error('the worker is gone');
            await recordArrival(ports, arrival);
            log.push(`recorded ${arrival.id}`);
          })();
          arriving.set(
            arrival.id,
            recording.then(
              () => true,
              () => false,
            ),
          );
          await recording;
        },
        async run(input, runOptions) {
          log.push(`run ${input.id}`);
          runs.push({ bytes: input.raw.length, handOver: runOptions?.handOver });
          const recorded = await arriving.get(input.id);
          arriving.delete(input.id);
          if (recorded === false) return { status: 'received', unrecorded: true };
          const outcome = await processMessage(input, ports);
          return { status: outcome.status };
        },
        close: async () => {},
      };
    };
    return { make, log, runs };
  }

  it('leaves the record to the processor: accept writes nothing, the run is handed over without waiting for it', async () => {
    let open = () => {};
    const arrivalGate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const { make, log } = processor({ arrivalGate });
    const { store, writes } = counted(mainStore);
    const events: PipelineEvent[] = [];
    const pipeline = createPipeline({ config, rawStore, store, logger: silentLogger, processor: make });
    pipelines.push(pipeline);
    pipeline.onEvent((e) => events.push(e));

    const { id } = await pipeline.accept({ envelope: ENVELOPE, body: RAW });
    expect(writes).toEqual([]);
    expect(await mainStore.getMessage(id)).toBeNull(); // not yet recorded: the processor holds it
    open();
    await pipeline.drain();

    // The run went to the processor while its record was still being written: the processor orders them.
    expect(log).toEqual([`arrive ${id}`, `run ${id}`, `recorded ${id}`]);
    expect(writes).toEqual([]);
    expect((await mainStore.getMessage(id))?.status).toBe('processed');
    expect(events.filter((e) => e.id === id).map((e) => e.type)).toEqual(
      expect.arrayContaining(['message.received', 'message.processed']),
    );
    expect(events.filter((e) => e.type === 'message.received')).toHaveLength(1);
  });

  it('recorded(id) resolves once the processor has written the record, and at once for an unknown id', async () => {
    let open = () => {};
    const arrivalGate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const { make } = processor({ arrivalGate });
    const pipeline = createPipeline({
      config,
      rawStore,
      store: mainStore,
      logger: silentLogger,
      processor: make,
    });
    pipelines.push(pipeline);

    const { id } = await pipeline.accept({ envelope: ENVELOPE, body: RAW });
    let done = false;
    const recorded = pipeline.recorded(id).then(() => {
      done = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(done).toBe(false);
    expect(await mainStore.getMessage(id)).toBeNull();
    open();
    await recorded;
    expect(await mainStore.getMessage(id)).not.toBeNull();
    await pipeline.recorded('no-such-id');
    await pipeline.drain();
  });

  it('records the arrival itself when the processor could not, and processes the message', async () => {
    const { make, log } = processor({ failArrivals: true });
    const { store, writes } = counted(mainStore);
    const pipeline = createPipeline({ config, rawStore, store, logger: silentLogger, processor: make });
    pipelines.push(pipeline);

    const { id } = await pipeline.accept({ envelope: ENVELOPE, body: RAW });
    // The first run ends unrecorded; the message runs again once this thread has recorded it.
    await vi.waitFor(async () => expect((await mainStore.getMessage(id))?.status).toBe('processed'), {
      timeout: 10_000,
    });

    expect(writes.length).toBeGreaterThan(0);
    expect(log).toEqual([`arrive ${id}`, `run ${id}`, `run ${id}`]);
  });

  it('hands the processor only bytes nobody else holds, and reads a big streamed message back', async () => {
    const { make, runs } = processor();
    let reads = 0;
    const get = rawStore.get.bind(rawStore);
    rawStore.get = (id: string) => {
      reads++;
      return get(id);
    };
    const pipeline = createPipeline({
      config,
      rawStore,
      store: mainStore,
      logger: silentLogger,
      processor: make,
    });
    pipelines.push(pipeline);
    async function* streamed(bytes: Buffer): AsyncGenerator<Buffer> {
      for (let at = 0; at < bytes.length; at += 64 * 1024) yield bytes.subarray(at, at + 64 * 1024);
    }
    const big = Buffer.concat([RAW, Buffer.alloc(2 * 1024 * 1024, 'a'), Buffer.from('\r\n')]);

    // A Buffer body is the caller's (and the journal's): copied, never taken over.
    await pipeline.accept({ envelope: ENVELOPE, body: RAW });
    await pipeline.drain();
    // A small streamed message: the pipeline's own gathered copy, processed without a read.
    await pipeline.accept({ envelope: ENVELOPE, body: streamed(RAW) });
    await pipeline.drain();
    expect(reads).toBe(0);
    // A streamed message over 1 MiB is not held while it waits: read back (a buffer of the run's own).
    const { id } = await pipeline.accept({ envelope: ENVELOPE, body: streamed(big) });
    await pipeline.drain();
    expect(reads).toBe(1);

    expect(runs).toEqual([
      { bytes: RAW.length, handOver: false },
      { bytes: RAW.length, handOver: true },
      { bytes: big.length, handOver: true },
    ]);
    expect((await mainStore.getMessage(id))?.status).toBe('processed');
  });
});
