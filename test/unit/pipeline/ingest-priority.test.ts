import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IngestPriorityGate } from '../../../lib/pipeline/ingest-priority.ts';

/** A gate in front of a fake processing queue whose load the test sets. */
function setup(options: { concurrency?: number; maxDelayMs?: number; burstStores?: number } = {}) {
  const released: string[] = [];
  const queue = { load: 0 };
  const gate = new IngestPriorityGate({
    release: (id) => {
      released.push(id);
      queue.load++;
    },
    load: () => queue.load,
    concurrency: options.concurrency ?? 2,
    ...(options.maxDelayMs === undefined ? {} : { maxDelayMs: options.maxDelayMs }),
    ...(options.burstStores === undefined ? {} : { burstStores: options.burstStores }),
  });
  /** One processing run ends. */
  const finish = () => {
    queue.load--;
    gate.settled();
  };
  /** One message arrives and is stored (a steady, one-at-a-time arrival). */
  const accept = (id: string) => {
    gate.arrival();
    gate.stored();
    gate.add(id);
  };
  return { gate, released, queue, finish, accept };
}

describe('IngestPriorityGate', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('releases at once while processing has spare capacity, even when mail never stops arriving', () => {
    const { released, finish, accept } = setup({ concurrency: 2 });
    for (let i = 0; i < 100; i++) {
      accept(`m${i}`);
      expect(released).toContain(`m${i}`);
      finish();
    }
    expect(released).toHaveLength(100);
  });

  it('holds messages while processing is full and releases one per finished run, oldest first', () => {
    const { gate, released, finish, accept } = setup({ concurrency: 2 });
    for (const id of ['a', 'b', 'c', 'd']) accept(id);
    expect(released).toEqual(['a', 'b']);
    expect(gate.size).toBe(2);
    finish();
    expect(released).toEqual(['a', 'b', 'c']);
    finish();
    expect(released).toEqual(['a', 'b', 'c', 'd']);
    expect(gate.size).toBe(0);
  });

  it('during a burst lets processing hold half its concurrency, and all of it once the burst ends', () => {
    const { gate, released, finish } = setup({ concurrency: 3, burstStores: 2 });
    for (let i = 0; i < 3; i++) gate.arrival(); // three messages being stored at once: a burst
    for (const id of ['a', 'b', 'c']) gate.add(id);
    expect(released).toEqual(['a', 'b']); // a fair share, not nothing
    finish();
    expect(released).toEqual(['a', 'b', 'c']);
    gate.add('d');
    expect(released).toEqual(['a', 'b', 'c']);
    gate.stored(); // two being stored: no longer a burst
    expect(released).toEqual(['a', 'b', 'c', 'd']);
  });

  it('releases a message that waited maxDelayMs whatever the load', () => {
    const { gate, released, accept } = setup({ concurrency: 1, maxDelayMs: 100 });
    accept('a');
    accept('b');
    expect(released).toEqual(['a']);
    vi.advanceTimersByTime(99);
    expect(released).toEqual(['a']);
    vi.advanceTimersByTime(1);
    expect(released).toEqual(['a', 'b']);
    expect(gate.size).toBe(0);
  });

  it('releases at once with maxDelayMs 0, and flush and clear empty it', () => {
    const zero = setup({ concurrency: 1, maxDelayMs: 0 });
    for (const id of ['a', 'b', 'c']) zero.accept(id);
    expect(zero.released).toEqual(['a', 'b', 'c']);

    const { gate, released, accept } = setup({ concurrency: 1 });
    for (const id of ['a', 'b', 'c', 'd']) accept(id);
    gate.flush();
    expect(released).toEqual(['a', 'b', 'c', 'd']);
    accept('e');
    expect(gate.clear()).toEqual(['e']);
    vi.advanceTimersByTime(10_000);
    expect(released).toEqual(['a', 'b', 'c', 'd']);
  });

  it('keeps a backlog of thousands in order while releasing from its front, and clear returns the rest', () => {
    const { gate, released, finish, accept } = setup({ concurrency: 1 });
    const ids = Array.from({ length: 5000 }, (_, i) => `m${i}`);
    for (const id of ids) accept(id);
    expect(released).toEqual(['m0']);
    expect(gate.size).toBe(4999);
    for (let i = 0; i < 3000; i++) finish();
    expect(released).toEqual(ids.slice(0, 3001));
    expect(gate.size).toBe(1999);
    accept('late');
    expect(gate.clear()).toEqual([...ids.slice(3001), 'late']);
    expect(gate.size).toBe(0);
    finish();
    expect(released).toHaveLength(3001);
  });
});
