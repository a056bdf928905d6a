import { createHash } from 'node:crypto';

/**
 * Sharded GSI partition keys: why and how.
 *
 * DynamoDB serves about 1,000 write units per second per partition key value, on a GSI as on the table,
 * and a GSI that cannot keep up throttles the table's writes. With projection ALL every write of a message
 * record is also a write to each index that lists it: the record is written about five times while it is
 * processed (received, auth, parse, status twice), so one key listing every message (`MESSAGES`, and
 * `STATUS#unfinished` on gsi2) capped the store near 1,000 / 5 = 200 messages per second.
 *
 * Now:
 * - gsi1 lists a message under `MESSAGES#<day>#<shard>`: `<day>` is the first 10 characters of its sort
 *   key (`receivedAt#id`, so the UTC date), `<shard>` a hash of its id modulo `indexShards` (default 16).
 *   16 keys × 200 = 3,200 messages/s on paper (1,600 when records exceed 1 KB, 2 write units each); 32
 *   shards double it. Beyond that the table's own quota (on-demand: 40,000 write units/s per table by
 *   default, adjustable) and the other items a message writes are the limit, not a key.
 * - gsi2 lists unfinished and failed messages under `STATUS#unfinished#<shard>` / `STATUS#failed#<shard>`
 *   (no day: these listings read the whole, small, sparse set anyway).
 * - Which days hold messages, and with how many shards they were written, is kept in one small item per
 *   day (`LISTING#MESSAGES` / `<day>`, a number set of shard counts). Each store instance writes it once
 *   per day it sees (plus a refresh twice a day, so its expiry outlives the day's messages), not once per
 *   message: that key stays cold. A newest-first listing reads these items newest first, queries the
 *   shards of one day in parallel, merges them by sort key, and walks back a day at a time until it has
 *   `limit` messages or the days run out — bounded by the days that exist, never by the calendar, so gaps,
 *   old data and future-dated messages cost nothing. Raising `indexShards` is safe at any time (each day
 *   remembers its counts); lowering it hides unfinished/failed entries in the dropped shards, so do it
 *   only when those listings are empty.
 *
 * Items written before sharding (gsi1 `MESSAGES`, gsi2 `STATUS#unfinished` / `STATUS#failed`) are still
 * read: every listing merges that one legacy key in too (one extra small Query). No migration is needed:
 * an old message moves to the sharded status key at its next status change, and old listing entries
 * leave with the items (retention) or stay listed as they are.
 */

/** Shards per listing when the store is not told otherwise. */
export const DEFAULT_INDEX_SHARDS = 16;
/** Most shards a listing may have (a newest-first listing queries this many keys per day at most). */
export const MAX_INDEX_SHARDS = 128;

/** The shard (0 … shards-1) of a message id: the first 4 bytes of its SHA-256, modulo `shards`. */
export function shardOf(id: string, shards: number): number {
  return createHash('sha256').update(id, 'utf8').digest().readUInt32BE(0) % shards;
}

/**
 * The listing day of a gsi1 sort key: its first 10 characters (the `yyyy-mm-dd` of `receivedAt`). A
 * prefix, so days order like the sort keys they hold: every key of a later day sorts after every key of
 * an earlier one, which is what lets a listing finish one day before it reads the previous.
 */
export function listingDay(sortKey: string): string {
  return sortKey.slice(0, 10);
}

/** `indexShards` checked: a whole number from 1 to {@link MAX_INDEX_SHARDS}. */
export function indexShardCount(value: number | undefined): number {
  const shards = value ?? DEFAULT_INDEX_SHARDS;
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_INDEX_SHARDS) {
    throw new RangeError(`indexShards must be a whole number from 1 to ${MAX_INDEX_SHARDS}, got ${value}`);
  }
  return shards;
}
