import { describe, expect, it } from 'vitest';
import { sqsDelaySeconds } from '../../../lib/aws/retry-queue.ts';
import { afterFailure, attemptDue, retryDelayMs } from '../../../lib/aws/retry-schedule.ts';
import { workItemsFromBody } from '../../../lib/aws/work-items.ts';
import { DEFAULT_RETRY, resolveConfig } from '../../../lib/config/index.ts';

const HOUR = 3_600_000;
const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms);
const noJitter = () => 0;
const fullJitter = () => 1 - Number.EPSILON;

describe('retryDelayMs', () => {
  it('doubles from 30 s and is capped at 1 hour by default', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 9, 20, 1000].map((n) => retryDelayMs(n, DEFAULT_RETRY, noJitter));
    expect(delays).toEqual([
      30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000, 3_600_000,
      3_600_000,
    ]);
  });

  it('takes at most a fifth off for jitter, never adding to the cap', () => {
    expect(retryDelayMs(1, DEFAULT_RETRY, fullJitter)).toBe(24_000);
    expect(retryDelayMs(50, DEFAULT_RETRY, fullJitter)).toBe(2_880_000);
    for (let i = 0; i < 100; i++) {
      const d = retryDelayMs(3, DEFAULT_RETRY, Math.random);
      expect(d).toBeGreaterThanOrEqual(96_000);
      expect(d).toBeLessThanOrEqual(120_000);
    }
  });

  it('follows the configured delays', () => {
    const retry = { windowHours: 2, initialDelaySeconds: 10, maxDelaySeconds: 25 };
    expect([1, 2, 3].map((n) => retryDelayMs(n, retry, noJitter))).toEqual([10_000, 20_000, 25_000]);
  });
});

describe('afterFailure', () => {
  it('opens a window at the first failure and schedules the next attempt', () => {
    expect(afterFailure(null, at(0), DEFAULT_RETRY, noJitter)).toEqual({
      failures: 1,
      firstFailedAt: at(0).toISOString(),
      nextAttemptAt: at(30_000).toISOString(),
    });
  });

  it('keeps the first failure time and backs off further on each failed run', () => {
    let state = afterFailure(null, at(0), DEFAULT_RETRY, noJitter);
    state = afterFailure(state, at(30_000), DEFAULT_RETRY, noJitter);
    expect(state).toEqual({
      failures: 2,
      firstFailedAt: at(0).toISOString(),
      nextAttemptAt: at(90_000).toISOString(),
    });
  });

  it('moves the last attempt up to the end of the window, then gives up', () => {
    const first = afterFailure(null, at(0), DEFAULT_RETRY, noJitter);
    const late = afterFailure({ ...first, failures: 30 }, at(23.5 * HOUR), DEFAULT_RETRY, noJitter);
    expect(late.nextAttemptAt).toBe(at(24 * HOUR).toISOString());
    const over = afterFailure(late, at(24 * HOUR), DEFAULT_RETRY, noJitter);
    expect(over).toEqual({
      failures: 32,
      firstFailedAt: at(0).toISOString(),
      gaveUpAt: at(24 * HOUR).toISOString(),
    });
  });

  it('starts a new window for a delivery run again after it gave up (a replay)', () => {
    const over = { failures: 40, firstFailedAt: at(0).toISOString(), gaveUpAt: at(24 * HOUR).toISOString() };
    expect(afterFailure(over, at(30 * HOUR), DEFAULT_RETRY, noJitter)).toEqual({
      failures: 1,
      firstFailedAt: at(30 * HOUR).toISOString(),
      nextAttemptAt: at(30 * HOUR + 30_000).toISOString(),
    });
  });
});

describe('attemptDue', () => {
  it('is due without a state, and at or after its next attempt time', () => {
    const state = {
      failures: 1,
      firstFailedAt: at(0).toISOString(),
      nextAttemptAt: at(30_000).toISOString(),
    };
    expect(attemptDue(null, at(0))).toBe(true);
    expect(attemptDue(state, at(29_999))).toBe(false);
    expect(attemptDue(state, at(30_000))).toBe(true);
  });
});

describe('retry config', () => {
  const base = { domains: ['example.com'], routes: [] };

  it('defaults to a 24-hour window, 30 s to 1 hour', () => {
    expect(resolveConfig(base).retry).toEqual({
      windowHours: 24,
      initialDelaySeconds: 30,
      maxDelaySeconds: 3600,
    });
  });

  it('names what is wrong with a bad retry section', () => {
    expect(() => resolveConfig({ ...base, retry: { windowHours: 0 } })).toThrow(
      /retry\.windowHours: must be more than 0 hours/,
    );
    expect(() => resolveConfig({ ...base, retry: { windowHours: 400 } })).toThrow(/at most 336 hours/);
    expect(() => resolveConfig({ ...base, retry: { initialDelaySeconds: 60, maxDelaySeconds: 30 } })).toThrow(
      /retry\.maxDelaySeconds: must not be shorter than initialDelaySeconds/,
    );
    expect(() => resolveConfig({ ...base, retry: { windowHour: 2 } })).toThrow(/windowHour/);
  });
});

describe('rescheduled messages on the queue', () => {
  it('read back as the work item of their message, envelope included', () => {
    const body = JSON.stringify({
      mailroomRetry: {
        id: 'd6iitobk75ur44p8kdnnp7g2n800',
        origin: 'ses',
        bucket: 'raw',
        key: 'ses/d6iitobk75ur44p8kdnnp7g2n800',
        envelope: { mailFrom: 'a@partner.test', rcptTo: ['hooks@example.com'] },
        receivedAt: '2026-03-02T09:00:00.000Z',
        notBefore: '2026-03-02T10:00:00.000Z',
        delaySeconds: 900,
      },
    });
    expect(workItemsFromBody(body, { rawBucket: 'raw' })).toEqual({
      items: [
        {
          id: 'd6iitobk75ur44p8kdnnp7g2n800',
          origin: 'ses',
          object: { bucket: 'raw', key: 'ses/d6iitobk75ur44p8kdnnp7g2n800' },
          envelope: { mailFrom: 'a@partner.test', rcptTo: ['hooks@example.com'] },
          receivedAt: '2026-03-02T09:00:00.000Z',
          retryNotBefore: '2026-03-02T10:00:00.000Z',
        },
      ],
      ignored: [],
    });
  });

  it('delay at most SQS’s 15 minutes', () => {
    expect(sqsDelaySeconds(at(HOUR), at(0))).toBe(900);
    expect(sqsDelaySeconds(at(29_001), at(0))).toBe(30);
    expect(sqsDelaySeconds(at(0), at(5_000))).toBe(0);
  });
});
