import { describe, expect, it, vi } from 'vitest';
import { PipelineError } from '../../../lib/pipeline/errors.ts';
import { WorkQueue } from '../../../lib/pipeline/work-queue.ts';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('WorkQueue', () => {
  it('runs at most `concurrency` at once and never one id twice at once', async () => {
    let active = 0;
    let peak = 0;
    const runs: string[] = [];
    const q = new WorkQueue<string>({ concurrency: 2 }, async (id) => {
      active++;
      peak = Math.max(peak, active);
      runs.push(id);
      await tick();
      active--;
      return id.toUpperCase();
    });
    const results = await Promise.all(['a', 'b', 'c', 'd'].map((id) => q.push(id)));
    expect(results).toEqual(['A', 'B', 'C', 'D']);
    expect(peak).toBe(2);
    await q.idle();
    expect(runs).toEqual(['a', 'b', 'c', 'd']);
  });

  it('joins a waiting request for the same id and serializes a running one', async () => {
    const runs: string[] = [];
    let concurrentSame = false;
    const running = new Set<string>();
    const q = new WorkQueue<number>({ concurrency: 4 }, async (id) => {
      if (running.has(id)) concurrentSame = true;
      running.add(id);
      runs.push(id);
      await tick();
      running.delete(id);
      return runs.length;
    });
    const first = q.push('x'); // starts at once
    await tick(1);
    const second = q.push('x'); // waits for the first
    const third = q.push('x'); // joins the second
    expect(second).toBe(third);
    await Promise.all([first, second]);
    expect(runs).toEqual(['x', 'x']);
    expect(concurrentSame).toBe(false);
  });

  it('rejects waiting work on close and refuses new work', async () => {
    const q = new WorkQueue<unknown>({ concurrency: 1 }, () => tick(20));
    const running = q.push('a');
    const waiting = q.push('b');
    q.close();
    await expect(waiting).rejects.toBeInstanceOf(PipelineError);
    await expect(q.push('c')).rejects.toThrow(/closed/);
    await running;
    await q.idle();
  });
  it('keeps the bytes in flight under its budget: small runs together, a big one alone, in arrival order', async () => {
    const sizes: Record<string, number> = { s1: 10, s2: 10, big: 95, s3: 10, huge: 500, s4: 10 };
    const gates = new Map<string, () => void>();
    const active = new Set<string>();
    const seen: string[][] = [];
    const q = new WorkQueue<void>(
      { concurrency: 4, bytes: 100, sizeOf: (id) => sizes[id]! },
      (id) =>
        new Promise<void>((resolve) => {
          active.add(id);
          seen.push([...active].sort());
          gates.set(id, () => {
            active.delete(id);
            resolve();
          });
        }),
    );
    const done = Object.keys(sizes).map((id) => q.push(id));
    const finish = async (id: string) => {
      await vi.waitFor(() => expect(gates.has(id)).toBe(true));
      gates.get(id)!();
      gates.delete(id);
    };
    await tick(1);
    // s1 and s2 (20 bytes) leave no room for big (95): big waits, and s3 waits behind it
    expect([...active].sort()).toEqual(['s1', 's2']);
    await finish('s1');
    await tick(1);
    expect([...active].sort()).toEqual(['s2']);
    await finish('s2');
    await finish('big');
    // huge is over the whole budget: it starts once nothing else runs, and runs alone
    await finish('s3');
    await finish('huge');
    await finish('s4');
    await Promise.all(done);
    expect(seen).toEqual([['s1'], ['s1', 's2'], ['big'], ['s3'], ['huge'], ['s4']]);
  });

  it('keeps a long backlog in arrival order, joins repeats anywhere in it, and counts it as load', async () => {
    const runs: string[] = [];
    let release!: () => void;
    const first = new Promise<void>((r) => {
      release = r;
    });
    const q = new WorkQueue<void>({ concurrency: 1 }, async (id) => {
      runs.push(id);
      if (id === 'm0') await first;
    });
    const ids = Array.from({ length: 5000 }, (_, i) => `m${i}`);
    const done = ids.map((id) => q.push(id));
    expect(q.load).toBe(5000);
    expect(q.push('m4321')).toBe(done[4321]); // joins the waiting request
    expect(q.has('m4999')).toBe(true);
    expect(q.has('m5000')).toBe(false);
    release();
    await Promise.all(done);
    expect(runs).toEqual(ids);
    expect(q.load).toBe(0);
  });

  it('starts a request out of turn when those before it wait for their id, then goes back to them in order', async () => {
    const gates = new Map<string, () => void>();
    const started: string[] = [];
    const q = new WorkQueue<void>(
      { concurrency: 2 },
      (id) =>
        new Promise<void>((resolve) => {
          started.push(id);
          gates.set(id, resolve);
        }),
    );
    const finish = async (id: string) => {
      await vi.waitFor(() => expect(gates.has(id)).toBe(true));
      const open = gates.get(id)!;
      gates.delete(id);
      open();
    };
    const done = [q.push('a'), q.push('b')]; // both running
    done.push(q.push('a'), q.push('b'), q.push('c'), q.push('d')); // a and b wait for their runs
    await tick(1);
    expect(started).toEqual(['a', 'b']);
    await finish('a'); // the second a starts in a's slot
    await vi.waitFor(() => expect(started).toEqual(['a', 'b', 'a']));
    await finish('a'); // b still runs: c starts out of turn, ahead of the second b
    await vi.waitFor(() => expect(started).toEqual(['a', 'b', 'a', 'c']));
    await finish('b');
    await vi.waitFor(() => expect(started).toEqual(['a', 'b', 'a', 'c', 'b']));
    await finish('c');
    await vi.waitFor(() => expect(started).toEqual(['a', 'b', 'a', 'c', 'b', 'd']));
    await finish('b');
    await finish('d');
    await Promise.all(done);
    expect(q.load).toBe(0);
    await q.idle();
  });

  it('lets thousands pass a request whose id is still running, and starts that one once its run ends', async () => {
    const started: string[] = [];
    let endFirstX!: () => void;
    let xRuns = 0;
    const q = new WorkQueue<void>({ concurrency: 2 }, async (id) => {
      started.push(id);
      if (id === 'x' && ++xRuns === 1) await new Promise<void>((r) => (endFirstX = r));
    });
    const first = q.push('x');
    await tick(1);
    const second = q.push('x'); // waits for the first run of x, at the front of the queue
    const others = Array.from({ length: 3000 }, (_, i) => q.push(`m${i}`));
    await Promise.all(others); // all run in the other slot meanwhile
    expect(started).toHaveLength(3001);
    expect(q.load).toBe(2); // the running x and the waiting one
    endFirstX();
    await Promise.all([first, second]);
    expect(started.at(-1)).toBe('x');
    expect(started.filter((id) => id === 'x')).toHaveLength(2);
    expect(q.load).toBe(0);
  });

  it('rejects every waiting request on close, also those behind one started out of turn', async () => {
    const gates = new Map<string, () => void>();
    const q = new WorkQueue<void>(
      { concurrency: 2 },
      (id) =>
        new Promise<void>((resolve) => {
          gates.set(id, resolve);
        }),
    );
    const a = q.push('a');
    const b = q.push('b');
    const a2 = q.push('a');
    const c = q.push('c');
    await tick(1);
    gates.get('b')!(); // c starts out of turn; the second a still waits
    await b;
    await vi.waitFor(() => expect(gates.has('c')).toBe(true));
    q.close();
    await expect(a2).rejects.toBeInstanceOf(PipelineError);
    expect(q.load).toBe(2);
    gates.get('a')!();
    gates.get('c')!();
    await Promise.all([a, c]);
    await q.idle();
  });
});
