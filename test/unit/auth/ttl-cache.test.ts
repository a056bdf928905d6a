import { describe, expect, it } from 'vitest';
import { TtlCache } from '../../../lib/auth/ttl-cache.ts';

describe('TtlCache', () => {
  it('serves an entry until its ttl has passed, then forgets it', () => {
    let now = 1000;
    const cache = new TtlCache<string>({ ttlMs: 500, maxEntries: 10, now: () => now });
    cache.set('a', 'A');
    now = 1499;
    expect(cache.get('a')).toBe('A');
    now = 1500;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps at most maxEntries, dropping the oldest', () => {
    const cache = new TtlCache<number>({ ttlMs: 60_000, maxEntries: 3 });
    for (const [i, key] of ['a', 'b', 'c'].entries()) cache.set(key, i);
    expect(cache.get('a')).toBe(0);
    cache.set('d', 3);
    expect(cache.size).toBe(3);
    expect(cache.get('a')).toBeUndefined();
    expect([cache.get('b'), cache.get('c'), cache.get('d')]).toEqual([1, 2, 3]);
    cache.set('b', 4); // stored again: now the newest
    cache.set('e', 5);
    expect([cache.get('b'), cache.get('c'), cache.get('d'), cache.get('e')]).toEqual([4, undefined, 3, 5]);
  });

  it('stays bounded under a flood of unique keys', () => {
    const cache = new TtlCache<number>({ ttlMs: 60_000, maxEntries: 100 });
    for (let i = 0; i < 10_000; i++) cache.set(`k${i}`, i);
    expect(cache.size).toBe(100);
    expect(cache.get('k9999')).toBe(9999);
    expect(cache.get('k0')).toBeUndefined();
  });

  it('storing a key again renews its time', () => {
    let now = 0;
    const cache = new TtlCache<string>({ ttlMs: 100, maxEntries: 10, now: () => now });
    cache.set('a', 'old');
    now = 90;
    cache.set('a', 'new');
    now = 150;
    expect(cache.get('a')).toBe('new');
  });
});
