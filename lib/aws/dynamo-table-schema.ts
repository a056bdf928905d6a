/**
 * The shape of Mailroom's DynamoDB table, shared by the store ({@link ./dynamo-message-store.ts}), the
 * `createMessageTable` helper and the CDK construct, so all three build the same table.
 *
 * Pure constants: nothing here imports the AWS SDK or the CDK.
 *
 * - primary key: partition key {@link TABLE_PARTITION_KEY} (string), sort key {@link TABLE_SORT_KEY} (string);
 * - global secondary indexes {@link GSI1} and {@link GSI2}, both with string keys and projection ALL, their
 *   attributes written only on the items that are listed through them (sparse indexes);
 * - time to live on {@link TTL_ATTRIBUTE} (epoch seconds), set when the store is given `retentionDays`;
 * - on-demand billing (the CDK construct also turns point-in-time recovery on).
 */

/** Partition key attribute (type S). */
export const TABLE_PARTITION_KEY = 'pk';
/** Sort key attribute (type S). */
export const TABLE_SORT_KEY = 'sk';

/** A global secondary index: its name and key attributes (both type S). */
export interface GsiSchema {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
}

/** Messages by time, all and per mailbox; outbox entries by time, all and per replied-to message. */
export const GSI1: GsiSchema = { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' };
/** Messages by status (unfinished, failed) and by thread; thread-filing lookups by header keys. */
export const GSI2: GsiSchema = { indexName: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' };

/** Both global secondary indexes, in a fixed order. */
export const TABLE_GSIS: readonly GsiSchema[] = [GSI1, GSI2];

/** Time-to-live attribute: epoch seconds after which DynamoDB may delete the item. */
export const TTL_ATTRIBUTE = 'expiresAt';

/** Every key attribute of the table and its indexes, all of type S (string). */
export const TABLE_KEY_ATTRIBUTES: readonly string[] = [
  TABLE_PARTITION_KEY,
  TABLE_SORT_KEY,
  GSI1.partitionKey,
  GSI1.sortKey,
  GSI2.partitionKey,
  GSI2.sortKey,
];
