import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Logger } from '../../../lib/kernel/index.ts';
import { AcceptedCounter } from '../../../lib/smtp/accepted-counter.ts';

function recordingLogger(): Logger & { lines: Array<[string, Record<string, unknown> | undefined]> } {
  const lines: Array<[string, Record<string, unknown> | undefined]> = [];
  const log = (msg: string, data?: Record<string, unknown>) => {
    lines.push([msg, data]);
  };
  return { lines, debug: () => {}, info: log, warn: log, error: log };
}

describe('AcceptedCounter', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs one line per interval with the messages and bytes accepted in it, none when idle', () => {
    const logger = recordingLogger();
    const counter = new AcceptedCounter(logger, 1000);
    counter.add(100);
    counter.add(50);
    expect(logger.lines).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(logger.lines).toEqual([
      ['smtp messages accepted', expect.objectContaining({ messages: 2, bytes: 150 })],
    ]);
    vi.advanceTimersByTime(5000);
    expect(logger.lines).toHaveLength(1);
    counter.add(7);
    counter.close();
    expect(logger.lines[1]).toEqual([
      'smtp messages accepted',
      expect.objectContaining({ messages: 1, bytes: 7 }),
    ]);
    counter.close();
    expect(logger.lines).toHaveLength(2);
  });
});
