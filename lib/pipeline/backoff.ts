/**
 * Delay before retry number `failures` (1 after the first failed try): `backoffMs` doubled per failure,
 * capped at `maxBackoffMs`, then "equal jitter" (a random point in the upper half) so retries spread out.
 */
export function backoffDelay(
  failures: number,
  opts: { backoffMs: number; maxBackoffMs: number },
  random: () => number = Math.random,
): number {
  const exp = Math.min(opts.backoffMs * 2 ** Math.max(0, failures - 1), opts.maxBackoffMs);
  const half = exp / 2;
  return Math.round(half + random() * half);
}

/** Resolves after `ms`, or early (returning false) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
