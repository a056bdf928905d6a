import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { ParsedMessage } from '../message/index.ts';
import {
  type FiledMessage,
  fileInThread,
  type MessageSummary,
  type ThreadLookup,
  type ThreadStorage,
  type Threads,
} from '../store/index.ts';
import { indexKeys, keys, timeKey } from './dynamo-keys.ts';
import { mapLimit } from './dynamo-map-limit.ts';
import { type EncodedParsed, encodeParsed } from './dynamo-parsed-codec.ts';
import { cursorKey } from './dynamo-records.ts';
import type { DynamoStoreContext } from './dynamo-store-context.ts';
import type { MessageItem } from './dynamo-store-items.ts';
import { describeError, itemKey, type Key } from './dynamo-table.ts';
import { GSI1, TABLE_PARTITION_KEY, TABLE_SORT_KEY, TTL_ATTRIBUTE } from './dynamo-table-schema.ts';
import { DynamoStoreError } from './store-errors.ts';

/**
 * The threads of the DynamoDB store. The policy (lookup order, moves) is the shared one
 * (`lib/store/thread-filing.ts`); this class answers its primitives with strongly consistent Queries on the
 * lookup items (`HMID#`, `TIDX#`, `SUBJ#`). The thread id lives on the message record and on the
 * membership item (`THREAD`) that gsi1 lists threads by; the stored parse is written once and its
 * `thread.id` is read from the record, so moving a message touches two small items.
 */
export class DynamoThreads implements Threads, ThreadStorage {
  readonly #context: DynamoStoreContext;

  constructor(context: DynamoStoreContext) {
    this.#context = context;
  }

  saveParsed(id: string, parsed: ParsedMessage): Promise<{ threadId: string }> {
    return fileInThread(this, id, parsed);
  }

  /**
   * Oldest first (`receivedAt`, then id).
   * @param opts.limit @default 500
   * @param opts.before the next page: only messages after this `messageCursor` (the last row of the
   * previous page) in that order
   */
  async listThread(
    threadId: string,
    opts: { limit?: number; before?: string } = {},
  ): Promise<MessageSummary[]> {
    const limit = Math.max(0, Math.floor(opts.limit ?? 500));
    if (limit === 0) return [];
    return this.#context.listVia(
      `list thread ${threadId}`,
      indexKeys.thread(threadId),
      true,
      limit,
      (m) => m.threadId === threadId,
      opts.before === undefined ? undefined : { op: '>', key: cursorKey(opts.before) },
    );
  }

  async findThread(lookup: ThreadLookup, exceptId: string): Promise<string | null> {
    if (lookup.by !== 'messageIds') {
      const pk =
        lookup.by === 'threadIndexRoot' ? keys.byThreadIndex(lookup.value) : keys.bySubject(lookup.value);
      return this.#firstThreadInLookup(exceptId, pk, lookup.pick === 'oldest');
    }
    // In chunks, in order: the first Message-ID (of the lookup's order) a stored message has wins.
    const concurrency = this.#context.concurrency;
    for (let i = 0; i < lookup.ids.length; i += concurrency) {
      const chunk = lookup.ids.slice(i, i + concurrency);
      const found = await Promise.all(
        chunk.map((headerId) =>
          this.#context.table.queryAll('find thread by Message-ID', {
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
            ExpressionAttributeValues: { ':pk': { S: keys.byHeaderId(headerId) } },
            ConsistentRead: true,
          }),
        ),
      );
      const candidates = found.flatMap((items) => items.map((item) => String(unmarshall(item).id)));
      const thread = await this.#firstThreadOf(candidates.filter((c) => c !== exceptId));
      if (thread !== null) return thread;
    }
    return null;
  }

  /**
   * Writes the parse, the membership item and the lookup items (dropping stale ones of an earlier parse),
   * then the record's fields. Like the SQLite store's UPDATE of a missing row, keeps nothing for a message
   * without a record.
   */
  async saveFiled({ id, threadId, parsed, keys: threadKeyset }: FiledMessage): Promise<boolean> {
    const message = await this.#context.messageItem(id);
    if (!message) return false;
    let encoded: EncodedParsed;
    try {
      ({ encoded } = await encodeParsed(parsed));
    } catch (cause) {
      throw new DynamoStoreError(`encoding the parse of message ${id} failed: ${describeError(cause)}`, {
        cause,
        retryable: false,
      });
    }
    const table = this.#context.table;
    const partition = keys.message(id);
    const arrival = timeKey(message.receivedAt, id);
    const expiresAt = message[TTL_ATTRIBUTE] ?? this.#context.expiresAt();
    const writes: Array<Promise<unknown>> = [
      table.put(`save parse of ${id}`, {
        [TABLE_PARTITION_KEY]: partition,
        [TABLE_SORT_KEY]: keys.parsedRecord,
        type: 'parsed',
        ...('json' in encoded ? { parsedJson: encoded.json } : { parsedGzip: encoded.gzip }),
        [TTL_ATTRIBUTE]: expiresAt,
      }),
      table.put(`save thread of ${id}`, {
        [TABLE_PARTITION_KEY]: partition,
        [TABLE_SORT_KEY]: keys.threadRecord,
        type: 'thread',
        id,
        threadId,
        [GSI1.partitionKey]: indexKeys.thread(threadId),
        [GSI1.sortKey]: arrival,
        [TTL_ATTRIBUTE]: expiresAt,
      }),
    ];
    // The lookup items other messages find this one's thread by; stale ones (a changed parse) go.
    const lookups: Array<[string | null, string | undefined, (v: string) => Key]> = [
      [
        threadKeyset.messageId,
        message.headerMessageId,
        (v) => itemKey(keys.byHeaderId(v), keys.lookupMember(id)),
      ],
      [threadKeyset.threadIndexRoot, message.threadIndexRoot, (v) => itemKey(keys.byThreadIndex(v), arrival)],
      [threadKeyset.subjectKey, message.subjectKey, (v) => itemKey(keys.bySubject(v), arrival)],
    ];
    for (const [now, before, keyOf] of lookups) {
      if (before !== undefined && before !== now) {
        writes.push(table.delete(`drop thread lookup of ${id}`, keyOf(before)));
      }
      if (now !== null) {
        writes.push(
          table.put(`save thread lookup of ${id}`, {
            ...unmarshall(keyOf(now)),
            type: 'lookup',
            id,
            [TTL_ATTRIBUTE]: expiresAt,
          }),
        );
      }
    }
    await Promise.all(writes);
    await table.update(`save parse fields of ${id}`, itemKey(partition, keys.messageRecord), {
      set: {
        subject: parsed.subject,
        from: parsed.from,
        threadId,
        headerMessageId: threadKeyset.messageId ?? undefined,
        threadIndexRoot: threadKeyset.threadIndexRoot ?? undefined,
        subjectKey: threadKeyset.subjectKey ?? undefined,
      },
      onlyIfExists: true,
    });
    return true;
  }

  /** Moves every member of thread `from` (gsi1 `THREAD#<from>`) into thread `to`, record first. */
  async moveThread(from: string, to: string): Promise<void> {
    const members = await this.#context.table.queryAll(`list thread ${from}`, {
      IndexName: GSI1.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': GSI1.partitionKey },
      ExpressionAttributeValues: { ':pk': { S: indexKeys.thread(from) } },
    });
    await mapLimit(members, this.#context.concurrency, async (item) => {
      const { id } = unmarshall(item) as { id: string };
      const partition = keys.message(id);
      // The record first: it is what listings and thread filing trust.
      await this.#context.table.update(`move ${id} to thread ${to}`, itemKey(partition, keys.messageRecord), {
        set: { threadId: to },
        onlyIf: { threadId: from },
      });
      await this.#context.table.update(`move ${id} to thread ${to}`, itemKey(partition, keys.threadRecord), {
        set: { threadId: to, [GSI1.partitionKey]: indexKeys.thread(to) },
        onlyIf: { threadId: from },
      });
    });
  }

  /** The thread of the first message (oldest or newest first) listed under a lookup partition. */
  async #firstThreadInLookup(exceptId: string, pk: string, oldestFirst: boolean): Promise<string | null> {
    let start: Key | undefined;
    do {
      const page = await this.#context.table.query('find thread', {
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
        ExpressionAttributeValues: { ':pk': { S: pk } },
        ConsistentRead: true,
        ScanIndexForward: oldestFirst,
        Limit: 10,
        ExclusiveStartKey: start,
      });
      const ids = (page.Items ?? []).map((item) => String(unmarshall(item).id)).filter((c) => c !== exceptId);
      const thread = await this.#firstThreadOf(ids);
      if (thread !== null) return thread;
      start = page.LastEvaluatedKey;
    } while (start);
    return null;
  }

  /** The thread id of the first of these messages (in this order) whose record has one. */
  async #firstThreadOf(ids: string[]): Promise<string | null> {
    if (ids.length === 0) return null;
    const records: Map<string, MessageItem> = await this.#context.messageItems(ids);
    for (const id of ids) {
      const threadId = records.get(id)?.threadId;
      if (threadId !== undefined) return threadId;
    }
    return null;
  }
}
