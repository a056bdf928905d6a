import type { DeliveryRecord } from '../store/index.ts';

/**
 * Retries across runs, for a driver that must not wait in place (the Lambda: it reschedules the message
 * instead). With them, a delivery whose tries in a run failed with a transient error stays `pending` with a
 * next attempt time, and later runs skip it until that time has come.
 */
export interface DeliveryRetries {
  /** Whether a delivery an earlier run left `pending` is to be tried now (its next attempt time has come). */
  due(d: DeliveryRecord): Promise<boolean>;
  /**
   * Records that the delivery's tries failed with a transient error and when it is to be tried next.
   * @returns the next attempt's time, or null when its retry window is over (it is then marked failed).
   */
  reschedule(d: DeliveryRecord): Promise<{ nextAttemptAt: string } | null>;
}
