import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../../lib/config/resolve-config.ts';
import { createProcessingPorts } from '../../../lib/pipeline/index.ts';
import { RunTraces } from '../../../lib/pipeline/run-traces.ts';
import { RunWrites } from '../../../lib/pipeline/run-writes.ts';
import type { MessageStore } from '../../../lib/store/index.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';

/** Ports over `store`, whose addTrace resolves only when the test says so. */
function setUp(store: MessageStore) {
  let release: () => void = () => {};
  const written = new Promise<void>((resolve) => {
    release = resolve;
  });
  vi.spyOn(store, 'addTrace').mockReturnValue(written);
  const ports = createProcessingPorts({
    config: resolveConfig({ domains: ['example.com'], routes: [] }),
    store,
    signal: new AbortController().signal,
    emit: () => {},
  });
  return { traces: new RunTraces(ports, 'm1', new RunWrites(store)), release };
}

/** Whether `promise` has settled after the pending microtasks and one macrotask. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => {
    settled = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('RunTraces', () => {
  let sqlite: SqliteMessageStore;
  beforeEach(() => {
    sqlite = new SqliteMessageStore(':memory:');
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await sqlite.close();
  });

  it('does not hold the run up with a store that orders its writes, and settles once they are written', async () => {
    expect(sqlite.ordersWrites).toBe(true);
    const { traces, release } = setUp(sqlite);
    expect(await isSettled(traces.add('parsed', 'ok'))).toBe(true);
    const settled = traces.settled();
    expect(await isSettled(settled)).toBe(false);
    release();
    await settled;
  });

  it('waits for each entry with a store that does not order its writes', async () => {
    const unordered: MessageStore = Object.create(sqlite, { ordersWrites: { value: false } });
    const { traces, release } = setUp(unordered);
    const added = traces.add('parsed', 'ok');
    expect(await isSettled(added)).toBe(false);
    release();
    await added;
    expect(await isSettled(traces.settled())).toBe(true);
  });
});
