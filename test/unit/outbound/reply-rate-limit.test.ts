import { describe, expect, it } from 'vitest';
import { DEFAULT_REPLY_LIMITS, ReplyRateLimiter } from '../../../lib/outbound/reply-rate-limit.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('ReplyRateLimiter', () => {
  const clock = () => {
    const c = { t: 1_000_000, now: () => c.t };
    return c;
  };

  it('defaults to 10 replies per address per hour and 60 per minute', () => {
    expect(new ReplyRateLimiter().limits).toEqual(DEFAULT_REPLY_LIMITS);
    expect(DEFAULT_REPLY_LIMITS).toEqual({ perRecipientPerHour: 10, perMinute: 60 });
  });

  it('counts per address case-insensitively over a sliding hour', () => {
    const c = clock();
    const limiter = new ReplyRateLimiter({ perRecipientPerHour: 2, perMinute: 100 }, c.now);
    expect(limiter.take('ada@example.net').ok).toBe(true);
    c.t += 10 * MINUTE;
    expect(limiter.take('ADA@example.net').ok).toBe(true);
    const third = limiter.take('ada@example.net');
    expect(third).toMatchObject({ ok: false, limit: 'recipient', retryAfterMs: 50 * MINUTE });
    expect(limiter.take('grace@example.org').ok).toBe(true);
    c.t += 50 * MINUTE; // the first reply is an hour old: one slot back
    expect(limiter.take('ada@example.net').ok).toBe(true);
    expect(limiter.take('ada@example.net').ok).toBe(false);
  });

  it('counts everyone over a sliding minute', () => {
    const c = clock();
    const limiter = new ReplyRateLimiter({ perRecipientPerHour: 100, perMinute: 3 }, c.now);
    for (let i = 0; i < 3; i++) expect(limiter.take(`u${i}@example.org`).ok).toBe(true);
    expect(limiter.take('u9@example.org')).toMatchObject({
      ok: false,
      limit: 'global',
      reason: 'rate limit: 3 replies in the last minute (outbound.replyLimits.perMinute)',
    });
    c.t += MINUTE;
    expect(limiter.take('u9@example.org').ok).toBe(true);
  });

  it('release gives a slot back', () => {
    const limiter = new ReplyRateLimiter({ perRecipientPerHour: 1, perMinute: 1 }, clock().now);
    const first = limiter.take('a@example.org');
    expect(first.ok).toBe(true);
    if (first.ok) first.release();
    expect(limiter.take('a@example.org').ok).toBe(true);
  });

  it('forgets quiet addresses, so memory stays bounded by the global limit', () => {
    const c = clock();
    const limiter = new ReplyRateLimiter({ perRecipientPerHour: 1, perMinute: 1_000_000 }, c.now);
    for (let i = 0; i < 10_000; i++) limiter.take(`u${i}@example.org`);
    c.t += HOUR + 1;
    limiter.take('late@example.org');
    // every earlier address has its full allowance again, and was swept
    expect(limiter.take('u1@example.org').ok).toBe(true);
    expect(limiter.recipientsTracked()).toBe(2);
  });
});
