import { randomBytes } from 'node:crypto';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type Outbox, type OutboxEntry, type OutboxSummary, outboxSummary } from '../store/index.ts';
import { indexKeys, keys, timeKey } from './dynamo-keys.ts';
import { mapLimit } from './dynamo-map-limit.ts';
import type { DynamoStoreContext } from './dynamo-store-context.ts';
import type { OutboxHeadItem } from './dynamo-store-items.ts';
import { itemKey, type Key } from './dynamo-table.ts';
import { GSI1, GSI2, TABLE_PARTITION_KEY, TABLE_SORT_KEY, TTL_ATTRIBUTE } from './dynamo-table-schema.ts';
import { DynamoStoreError } from './store-errors.ts';

/** Outbox bytes per chunk item. */
const OUTBOX_CHUNK_BYTES = 300 * 1024;

/**
 * The outbox of the DynamoDB store: per sent message a small head item (`OUTBOX#<id>` / `OUTBOX`, listed
 * by gsi1 `OUTBOX` and, for a reply, gsi2 `OUTBOX#<inReplyTo>`) and its bytes in 300 KiB chunk items
 * under a nonce of the write; the head, written last and only if none exists, is the commit point.
 */
export class DynamoOutbox implements Outbox {
  readonly #context: DynamoStoreContext;

  constructor(context: DynamoStoreContext) {
    this.#context = context;
  }

  async putOutboxEntry(entry: OutboxEntry): Promise<boolean> {
    const table = this.#context.table;
    const head = itemKey(keys.outbox(entry.id), keys.outboxRecord);
    if (await table.get(`read outbox entry ${entry.id}`, head, TABLE_PARTITION_KEY)) return false;
    // The bytes go first, under a nonce of this write; the head, written only if none exists, commits them.
    const nonce = randomBytes(8).toString('hex');
    const chunks: Buffer[] = [];
    for (let at = 0; at < entry.raw.length; at += OUTBOX_CHUNK_BYTES) {
      chunks.push(entry.raw.subarray(at, at + OUTBOX_CHUNK_BYTES));
    }
    const chunkKeys = chunks.map((_, n) => itemKey(keys.outbox(entry.id), keys.outboxChunk(nonce, n)));
    const expiresAt = this.#context.expiresAt();
    await mapLimit(
      chunks.map((data, n) => ({ data, k: chunkKeys[n]! })),
      this.#context.concurrency,
      ({ data, k }) =>
        table.put(`store bytes of outbox entry ${entry.id}`, {
          ...unmarshall(k),
          type: 'outboxChunk',
          data,
          [TTL_ATTRIBUTE]: expiresAt,
        }),
    );
    if (
      !(await table.putNew(
        `record outbox entry ${entry.id}`,
        headItem(entry, chunks.length, nonce, expiresAt),
      ))
    ) {
      // Another writer committed first: our chunks are unreachable (another nonce); tidy them away.
      await mapLimit(chunkKeys, this.#context.concurrency, (k) =>
        table.delete(`drop bytes of outbox entry ${entry.id}`, k),
      );
      return false;
    }
    return true;
  }

  async getOutboxEntry(id: string): Promise<OutboxEntry | null> {
    const head = await this.#context.table.get<OutboxHeadItem>(
      `read outbox entry ${id}`,
      itemKey(keys.outbox(id), keys.outboxRecord),
    );
    if (!head) return null;
    const chunks = await this.#context.table.queryAll(`read bytes of outbox entry ${id}`, {
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY, '#sk': TABLE_SORT_KEY },
      ExpressionAttributeValues: {
        ':pk': { S: keys.outbox(id) },
        ':prefix': { S: keys.outboxChunkPrefix(head.nonce) },
      },
      ConsistentRead: true,
    });
    if (chunks.length !== head.chunks) {
      throw new DynamoStoreError(
        `outbox entry ${id} has ${chunks.length} of its ${head.chunks} byte chunks (table damaged?)`,
        { retryable: false },
      );
    }
    const raw = Buffer.concat(chunks.map((c) => Buffer.from(c.data?.B ?? new Uint8Array(0))));
    return {
      id: head.id,
      messageId: head.messageId,
      inReplyTo: head.inReplyTo ?? null,
      envelope: { from: head.envelope.from, to: head.envelope.to },
      subject: head.subject ?? null,
      createdAt: head.createdAt,
      transport: head.transport,
      raw,
    };
  }

  /**
   * Newest first (`createdAt`, then id, descending).
   * @param opts.inReplyTo only replies to this message.
   * @param opts.limit @default 100
   */
  async listOutbox(opts: { inReplyTo?: string; limit?: number } = {}): Promise<OutboxSummary[]> {
    const limit = Math.max(0, Math.floor(opts.limit ?? 100));
    if (limit === 0) return [];
    const index = opts.inReplyTo === undefined ? GSI1 : GSI2;
    const pk = opts.inReplyTo === undefined ? indexKeys.allOutbox : indexKeys.outboxReplies(opts.inReplyTo);
    const heads: OutboxHeadItem[] = [];
    let start: Key | undefined;
    do {
      const page = await this.#context.table.query('list outbox', {
        IndexName: index.indexName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': index.partitionKey },
        ExpressionAttributeValues: { ':pk': { S: pk } },
        ScanIndexForward: false,
        Limit: limit - heads.length,
        ExclusiveStartKey: start,
      });
      for (const item of page.Items ?? []) heads.push(unmarshall(item) as OutboxHeadItem);
      start = page.LastEvaluatedKey;
    } while (start && heads.length < limit);
    return heads.map(outboxSummary);
  }
}

/** The head item of an entry whose bytes are `chunks` chunk items under `nonce`. */
function headItem(
  entry: OutboxEntry,
  chunks: number,
  nonce: string,
  expiresAt: number | undefined,
): OutboxHeadItem & Record<string, unknown> {
  const item: OutboxHeadItem & Record<string, unknown> = {
    [TABLE_PARTITION_KEY]: keys.outbox(entry.id),
    [TABLE_SORT_KEY]: keys.outboxRecord,
    type: 'outbox',
    id: entry.id,
    messageId: entry.messageId,
    inReplyTo: entry.inReplyTo,
    envelope: { from: entry.envelope.from, to: [...entry.envelope.to] },
    subject: entry.subject,
    createdAt: entry.createdAt,
    transport: entry.transport,
    size: entry.raw.length,
    chunks,
    nonce,
    [GSI1.partitionKey]: indexKeys.allOutbox,
    [GSI1.sortKey]: timeKey(entry.createdAt, entry.id),
    [TTL_ATTRIBUTE]: expiresAt,
  };
  if (entry.inReplyTo !== null) {
    item[GSI2.partitionKey] = indexKeys.outboxReplies(entry.inReplyTo);
    item[GSI2.sortKey] = timeKey(entry.createdAt, entry.id);
  }
  return item;
}
