import { describe, expect, it } from 'vitest';
import { backoffDelay, sleep } from '../../../lib/pipeline/backoff.ts';

describe('backoffDelay', () => {
  const opts = { backoffMs: 100, maxBackoffMs: 1000 };
  it('doubles from backoffMs, caps at maxBackoffMs, jitters within the upper half', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, opts, () => 0.999999))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect([1, 2, 3].map((n) => backoffDelay(n, opts, () => 0))).toEqual([50, 100, 200]);
  });
});

describe('sleep', () => {
  it('ends early when aborted', async () => {
    const ac = new AbortController();
    const started = Date.now();
    const p = sleep(10_000, ac.signal);
    ac.abort();
    expect(await p).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await sleep(1)).toBe(true);
  });
});
