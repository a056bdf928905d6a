/**
 * DynamoDB store benchmark on dynalite: what sharding the message listings (gsi1 `MESSAGES#<day>#<shard>`,
 * gsi2 `STATUS#…#<shard>`) costs and gives, through `DynamoMessageStore` itself.
 *
 *   npm run bench:dynamo [-- --messages 2000 --concurrency 32 --runs 20]
 *
 * - writes: each message's record lifecycle (recordReceived, then status processing and processed: the
 *   writes that reach the hot index keys), `--concurrency` messages at a time, with 1 shard (every message
 *   of a day under one key, as before sharding) and with 16 (the default). dynalite does not throttle a hot
 *   key as DynamoDB does (about 1,000 write units/s per key), so this shows the cost of sharding (the day
 *   item, the hashing), not the ceiling it lifts; the ceiling is worked out in `lib/aws/dynamo-index-shards.ts`
 *   and the README.
 * - listing, over the messages written (3 days), with 1 and 16 shards, median and p95 milliseconds: the
 *   index part alone (day items, the shards' Queries, the merge) for limit 50 and 500, and the whole
 *   `listMessages({ limit: 50 })`, which also reads each listed message's deliveries (one Query each, as
 *   before sharding).
 *
 * dynalite runs in this process (in memory), so client and emulator share one CPU: absolute figures are
 * the emulator's, and only the comparison between the two layouts means anything.
 */
import { parseArgs } from 'node:util';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createMessageTable } from '../lib/aws/dynamo-create-table.ts';
import { mapLimit } from '../lib/aws/dynamo-map-limit.ts';
import { MessageListingIndex } from '../lib/aws/dynamo-message-listing.ts';
import { DynamoMessageStore } from '../lib/aws/dynamo-message-store.ts';
import { DynamoStoreContext } from '../lib/aws/dynamo-store-context.ts';
import { dynamoClientFor, startDynalite } from '../test/support/aws-emulators.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '32' },
    runs: { type: 'string', default: '20' },
  },
});
const messages = Math.max(100, Number(values.messages) || 2000);
const concurrency = Math.max(1, Number(values.concurrency) || 32);
const runs = Math.max(5, Number(values.runs) || 20);
const envelope = { mailFrom: 'alice@example.net', rcptTo: ['support@example.com'] };

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;

/** Writes `messages` record lifecycles, `concurrency` at a time; messages per second. */
async function writeMessages(store: DynamoMessageStore, count = messages): Promise<number> {
  const batch = Array.from({ length: count }, (_, i) => ({
    id: `m${String(i).padStart(7, '0')}`,
    // three days, the messages of each spread over its 24 hours
    receivedAt: new Date(Date.UTC(2026, 11, 4) + Math.floor((i * 3 * 86_400_000) / count)).toISOString(),
  }));
  const started = performance.now();
  await mapLimit(batch, concurrency, async ({ id, receivedAt }) => {
    await store.recordReceived({ id, receivedAt, envelope, size: 1000 });
    await store.setStatus(id, 'processing');
    await store.setStatus(id, 'processed');
  });
  return count / ((performance.now() - started) / 1000);
}

/** Median and p95 milliseconds of `list()`, which must answer `expected` items. */
async function latency(list: () => Promise<unknown[]>, expected: number): Promise<string> {
  await list();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    const listed = await list();
    times.push(performance.now() - started);
    if (listed.length !== expected) throw new Error(`listed ${listed.length}, expected ${expected}`);
  }
  times.sort((a, b) => a - b);
  return `p50 ${percentile(times, 0.5).toFixed(1)} / p95 ${percentile(times, 0.95).toFixed(1)} ms`;
}

async function measure(client: DynamoDBClient, indexShards: number): Promise<string[]> {
  const tableName = `bench-${indexShards}-shards`;
  await createMessageTable(client, tableName);
  const options = { client, tableName, indexShards };
  const store = new DynamoMessageStore(options);
  const perSecond = await writeMessages(store);
  // the index part alone: the day items, the shards' Queries and their merge (no deliveries)
  const index = new MessageListingIndex(new DynamoStoreContext(options));
  const lines = [
    `${indexShards} shard(s): writes ${perSecond.toFixed(0)} msg/s (${(perSecond * 3).toFixed(0)} record writes/s)`,
    `  index, limit 50:           ${await latency(() => index.newestFirst(50), 50)}`,
    `  index, limit 500:          ${await latency(() => index.newestFirst(500), 500)}`,
    `  listMessages, limit 50:    ${await latency(() => store.listMessages({ limit: 50 }), 50)}`,
  ];
  await store.close();
  return lines;
}

const dynamo = await startDynalite();
const client = dynamoClientFor(dynamo.endpoint);
try {
  console.log(
    `DynamoMessageStore on dynalite (in process): ${messages} messages over 3 days, ` +
      `${concurrency} at a time; listings ${runs} runs each`,
  );
  // warm-up (JIT, dynalite's first tables), not reported
  const warmUp = new DynamoMessageStore({ client, tableName: 'bench-warm-up', indexShards: 4 });
  await createMessageTable(client, 'bench-warm-up');
  await writeMessages(warmUp, Math.min(300, messages));
  await warmUp.listMessages({ limit: 50 });
  for (const shards of [1, 16]) console.log((await measure(client, shards)).join('\n'));
} finally {
  client.destroy();
  await dynamo.close();
}
