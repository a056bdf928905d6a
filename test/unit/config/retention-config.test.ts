import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../../lib/config/index.ts';

const base = { domains: ['example.com'], routes: [] };

function problemsOf(retention: unknown): string[] {
  try {
    resolveConfig({ ...base, retention });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('config retention', () => {
  it('is null when absent, and fills the attachment grace period', () => {
    expect(resolveConfig(base).retention).toBeNull();
    expect(resolveConfig({ ...base, retention: {} }).retention).toEqual({ attachmentGraceHours: 1 });
    expect(resolveConfig({ ...base, retention: { maxAgeDays: 7.5, maxMessages: 1000 } }).retention).toEqual({
      maxAgeDays: 7.5,
      maxMessages: 1000,
      attachmentGraceHours: 1,
    });
  });

  it('names the bad field and what is allowed', () => {
    expect(problemsOf({ maxAgeDays: 0 })).toEqual([
      'retention.maxAgeDays: must be more than 0 days (how long a message is kept)',
    ]);
    expect(problemsOf({ maxAgeDays: '30d' })).toEqual([
      'retention.maxAgeDays: must be a number of days (how long a message is kept)',
    ]);
    expect(problemsOf({ maxMessages: 2.5 })).toEqual([
      'retention.maxMessages: must be a whole number of messages (how many of the newest are kept)',
    ]);
    expect(problemsOf({ maxMessages: 0 })).toEqual([
      'retention.maxMessages: must be at least 1 message (leave it out to keep any number)',
    ]);
    expect(problemsOf({ attachmentGraceHours: 0 })).toEqual([
      'retention.attachmentGraceHours: must be more than 0 hours (an attachment being stored must survive a prune)',
    ]);
    expect(problemsOf({ maxAge: 3 })).toEqual(["retention: unknown key 'maxAge'"]);
    expect(problemsOf(500)).toEqual(['retention: must be an object, got 500']);
  });
});
