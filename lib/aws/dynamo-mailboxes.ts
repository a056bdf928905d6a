import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  type MailboxEntry,
  type Mailboxes,
  mailboxEntry,
  messageCursor,
  storedMailboxData,
} from '../store/index.ts';
import { indexKeys, keys, timeKey } from './dynamo-keys.ts';
import { cursorKey } from './dynamo-records.ts';
import { byOrder, type DynamoStoreContext, partitionQuery } from './dynamo-store-context.ts';
import type { MailboxItem } from './dynamo-store-items.ts';
import type { Key } from './dynamo-table.ts';
import { GSI1, TABLE_PARTITION_KEY, TABLE_SORT_KEY, TTL_ATTRIBUTE } from './dynamo-table-schema.ts';

/**
 * The mailboxes of the DynamoDB store: one partition per mailbox (`MAILBOX#<mailbox>`), one item per
 * message, also listed by gsi1 in the order of the messages' arrival (`listMessages({ mailbox })`).
 */
export class DynamoMailboxes implements Mailboxes {
  readonly #context: DynamoStoreContext;

  constructor(context: DynamoStoreContext) {
    this.#context = context;
  }

  async putMailboxEntry(entry: MailboxEntry): Promise<boolean> {
    // Listed (gsi1) by the message's arrival, as `listMessages({ mailbox })` orders; by the entry's own
    // time when the message has no record (it is only listed once it has one).
    const message = await this.#context.messageItem(entry.messageId);
    return this.#context.table.putNew(`put message ${entry.messageId} in mailbox ${entry.mailbox}`, {
      [TABLE_PARTITION_KEY]: keys.mailbox(entry.mailbox),
      [TABLE_SORT_KEY]: keys.mailboxEntry(entry.messageId),
      type: 'mailboxEntry',
      mailbox: entry.mailbox,
      messageId: entry.messageId,
      data: storedMailboxData(entry),
      createdAt: entry.createdAt,
      order: this.#context.order.next(),
      [GSI1.partitionKey]: indexKeys.mailboxMessages(entry.mailbox),
      [GSI1.sortKey]: timeKey(message?.receivedAt ?? entry.createdAt, entry.messageId),
      [TTL_ATTRIBUTE]: this.#context.expiresAt(),
    });
  }

  /** Oldest first (the order messages arrived in the mailbox). */
  async listMailboxEntries(mailbox: string): Promise<MailboxEntry[]> {
    const items = await this.#context.table.queryAll(`list mailbox ${mailbox}`, {
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
      ExpressionAttributeValues: { ':pk': { S: keys.mailbox(mailbox) } },
      ConsistentRead: true,
    });
    return items
      .map((item) => unmarshall(item) as MailboxItem)
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : byOrder(a, b)))
      .map(mailboxEntry);
  }

  /**
   * One page of a mailbox, newest first (by the messages' arrival, as `listMessages({ mailbox })`), read
   * from gsi1; each entry with the arrival it is listed by, and the cursor of the next page (null: none).
   * @param opts.before the cursor of the previous page
   */
  async mailboxPage(
    mailbox: string,
    opts: { limit: number; before?: string },
  ): Promise<{ entries: Array<MailboxEntry & { receivedAt: string }>; nextCursor: string | null }> {
    const limit = Math.max(1, Math.floor(opts.limit));
    const bound = opts.before === undefined ? undefined : { op: '<' as const, key: cursorKey(opts.before) };
    const entries: Array<MailboxEntry & { receivedAt: string }> = [];
    let start: Key | undefined;
    do {
      const page = await this.#context.table.query(`list mailbox ${mailbox}`, {
        ...partitionQuery(GSI1, indexKeys.mailboxMessages(mailbox), bound),
        ScanIndexForward: false,
        Limit: limit - entries.length,
        ExclusiveStartKey: start,
      });
      for (const raw of page.Items ?? []) {
        const item = unmarshall(raw) as MailboxItem;
        const sortKey = raw[GSI1.sortKey]?.S ?? '';
        entries.push({ ...mailboxEntry(item), receivedAt: sortKey.slice(0, sortKey.indexOf('#')) });
      }
      start = page.LastEvaluatedKey;
    } while (start && entries.length < limit);
    const last = entries.at(-1);
    const nextCursor =
      entries.length === limit && last
        ? messageCursor({ receivedAt: last.receivedAt, id: last.messageId })
        : null;
    return { entries, nextCursor };
  }
}
