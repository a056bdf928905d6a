import { describe, expect, it } from 'vitest';
import { PipelineError } from '../../../lib/pipeline/errors.ts';
import { WorkQueue } from '../../../lib/pipeline/work-queue.ts';

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe('WorkQueue', () => {
  it('runs at most `concurrency` at once and never one id twice at once', async () => {
    let active = 0;
    let peak = 0;
    const runs: string[] = [];
    const q = new WorkQueue<string>(2, async (id) => {
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
    const q = new WorkQueue<number>(4, async (id) => {
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
    const q = new WorkQueue<unknown>(1, () => tick(20));
    const running = q.push('a');
    const waiting = q.push('b');
    q.close();
    await expect(waiting).rejects.toBeInstanceOf(PipelineError);
    await expect(q.push('c')).rejects.toThrow(/closed/);
    await running;
    await q.idle();
  });
});
