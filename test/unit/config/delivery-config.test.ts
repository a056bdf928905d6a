import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../lib/config/index.ts';

const base = { domains: ['example.com'], routes: [] };

describe('delivery.workers', () => {
  it('processes in one worker thread by default; 0 processes on the SMTP thread', () => {
    expect(resolveConfig(base).delivery.workers).toBe(1);
    expect(resolveConfig({ ...base, delivery: { workers: 0 } }).delivery.workers).toBe(0);
    expect(resolveConfig({ ...base, delivery: { workers: 4 } }).delivery.workers).toBe(4);
  });
});
