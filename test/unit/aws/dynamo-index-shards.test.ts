import { describe, expect, it } from 'vitest';
import {
  DEFAULT_INDEX_SHARDS,
  indexShardCount,
  listingDay,
  shardOf,
} from '../../../lib/aws/dynamo-index-shards.ts';
import { indexKeys } from '../../../lib/aws/dynamo-keys.ts';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** 10,000 ids shaped like `newMessageId`'s (time prefix, then base32), made deterministically. */
function messageIds(): string[] {
  const ids: string[] = [];
  let state = 12_345;
  for (let i = 0; i < 10_000; i++) {
    let id = (1_700_000_000_000 + i * 3).toString(32).padStart(10, '0');
    for (let c = 0; c < 16; c++) {
      state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
      id += ALPHABET[state % 32];
    }
    ids.push(id);
  }
  return ids;
}

/** Pearson's chi-square of the counts against an even spread. */
function chiSquare(counts: number[], total: number): number {
  const expected = total / counts.length;
  return counts.reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
}

function spread(ids: string[], shards: number): number[] {
  const counts = new Array<number>(shards).fill(0);
  for (const id of ids) counts[shardOf(id, shards)] = (counts[shardOf(id, shards)] ?? 0) + 1;
  return counts;
}

describe('GSI shards of the DynamoDB store', () => {
  it('spreads message ids evenly over the shards', () => {
    const ids = messageIds();
    const counts = spread(ids, DEFAULT_INDEX_SHARDS);
    // 15 degrees of freedom: 37.7 is exceeded by chance once in a thousand
    expect(chiSquare(counts, ids.length)).toBeLessThan(37.7);
    expect(Math.min(...counts)).toBeGreaterThan(0.85 * (ids.length / DEFAULT_INDEX_SHARDS));
  });

  it('spreads sequential ids (one prefix, a counter) evenly too', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `msg-${i}`);
    expect(chiSquare(spread(ids, 16), ids.length)).toBeLessThan(37.7);
    // 63 degrees of freedom: 103.4 at one in a thousand
    expect(chiSquare(spread(ids, 64), ids.length)).toBeLessThan(103.4);
  });

  it('gives an id the same shard every time, within range', () => {
    expect(shardOf('01hx5k3v9q0000000000000000', 16)).toBe(shardOf('01hx5k3v9q0000000000000000', 16));
    for (const id of ['a', 'b', '', 'ä'.repeat(500)]) {
      expect(shardOf(id, 7)).toBeGreaterThanOrEqual(0);
      expect(shardOf(id, 7)).toBeLessThan(7);
      expect(shardOf(id, 1)).toBe(0);
    }
  });

  it('names a listing day by the date of the sort key, and keys by day and shard', () => {
    expect(listingDay('2024-01-03T23:59:59.999Z#m1')).toBe('2024-01-03');
    expect(indexKeys.messages('2024-01-03', 7)).toBe('MESSAGES#2024-01-03#07');
    expect(indexKeys.unfinished(3)).toBe('STATUS#unfinished#03');
    expect(indexKeys.failed(100)).toBe('STATUS#failed#100');
  });

  it('accepts 1 to 128 shards, 16 by default', () => {
    expect(indexShardCount(undefined)).toBe(16);
    expect(indexShardCount(1)).toBe(1);
    expect(indexShardCount(128)).toBe(128);
    for (const bad of [0, -1, 1.5, 129, Number.NaN]) expect(() => indexShardCount(bad)).toThrow(RangeError);
  });
});
