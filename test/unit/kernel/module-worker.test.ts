import { describe, expect, it } from 'vitest';
import { transferable, transferableCopy } from '../../../lib/kernel/index.ts';

describe('transferable: bytes to move to a worker', () => {
  it('is the bytes own ArrayBuffer when they fill it, so nothing is copied', () => {
    const bytes = Buffer.allocUnsafeSlow(64 * 1024).fill(7);
    expect(transferable(bytes)).toBe(bytes.buffer);
  });

  it('copies a view that shares its ArrayBuffer (a slice, a Buffer pool entry)', () => {
    const whole = Buffer.alloc(1024, 1);
    const slice = whole.subarray(10, 20);
    const moved = transferable(slice);
    expect(moved).not.toBe(whole.buffer);
    expect(Buffer.from(moved)).toEqual(slice);
    const pooled = Buffer.from('small'); // from Node's shared 8 KiB pool
    expect(pooled.byteLength).toBeLessThan(pooled.buffer.byteLength);
    expect(transferable(pooled)).not.toBe(pooled.buffer);
    expect(Buffer.from(transferable(pooled)).toString()).toBe('small');
  });

  it('transferableCopy always copies', () => {
    const bytes = Buffer.allocUnsafeSlow(16).fill(3);
    const copy = transferableCopy(bytes);
    expect(copy).not.toBe(bytes.buffer);
    expect(Buffer.from(copy)).toEqual(bytes);
  });
});
