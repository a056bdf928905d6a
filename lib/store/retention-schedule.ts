import { errorText, type Logger } from '../kernel/index.ts';
import type { PruneResult } from './retention.ts';

/** How often the local runtime prunes. */
export const PRUNE_INTERVAL_MS = 10 * 60 * 1000;

/** A prune that runs on start and then on a timer, one run at a time. */
export interface PruneSchedule {
  /**
   * Runs a prune now, or, when one is running, resolves with that run's result (never two at once).
   * Resolves null when the run failed (the failure is logged).
   */
  runNow(): Promise<PruneResult | null>;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

/**
 * Runs `prune` at once and every `intervalMs`, never concurrently with itself, logging one line per run
 * (`retention pruned` with the counts) and a warning when a run fails; a failed run is retried on the next
 * tick.
 */
export function schedulePruning(options: {
  prune: () => Promise<PruneResult>;
  logger: Logger;
  intervalMs?: number;
}): PruneSchedule {
  const { prune, logger } = options;
  let running: Promise<PruneResult | null> | null = null;
  let stopped = false;

  const runNow = (): Promise<PruneResult | null> => {
    if (running) return running;
    const run = prune().then(
      (result) => {
        logger.info('retention pruned', { ...result });
        return result;
      },
      (err: unknown) => {
        logger.warn('retention prune failed', { error: errorText(err) });
        return null;
      },
    );
    running = run;
    void run.finally(() => {
      if (running === run) running = null;
    });
    return run;
  };

  const timer = setInterval(() => {
    if (!stopped) void runNow();
  }, options.intervalMs ?? PRUNE_INTERVAL_MS);
  timer.unref();
  void runNow();

  return {
    runNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
