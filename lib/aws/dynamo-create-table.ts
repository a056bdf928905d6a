import {
  CreateTableCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  TABLE_GSIS,
  TABLE_KEY_ATTRIBUTES,
  TABLE_PARTITION_KEY,
  TABLE_SORT_KEY,
  TTL_ATTRIBUTE,
} from './dynamo-table-schema.ts';
import { DynamoStoreError } from './store-errors.ts';

export interface CreateMessageTableOptions {
  /**
   * Also turn time to live on (attribute `expiresAt`). Off by default because the emulators used for
   * tests and local work (dynalite) do not implement `UpdateTimeToLive`; deployed tables get TTL from the
   * CDK construct.
   * @default false
   */
  timeToLive?: boolean;
  /** How long to wait for the table to become ACTIVE, in seconds. @default 120 */
  maxWaitSeconds?: number;
}

/**
 * Creates the table a {@link DynamoMessageStore} works on (the schema of `dynamo-table-schema.ts`,
 * on-demand billing) and resolves once it is ACTIVE. For tests and local use; deployments create the
 * table with the CDK construct. Fails (with a {@link DynamoStoreError}) when the table already exists.
 */
export async function createMessageTable(
  client: DynamoDBClient,
  tableName: string,
  options: CreateMessageTableOptions = {},
): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: TABLE_KEY_ATTRIBUTES.map((name) => ({
          AttributeName: name,
          AttributeType: 'S',
        })),
        KeySchema: [
          { AttributeName: TABLE_PARTITION_KEY, KeyType: 'HASH' },
          { AttributeName: TABLE_SORT_KEY, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: TABLE_GSIS.map((gsi) => ({
          IndexName: gsi.indexName,
          KeySchema: [
            { AttributeName: gsi.partitionKey, KeyType: 'HASH' },
            { AttributeName: gsi.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
      }),
    );
    await waitUntilTableExists(
      { client, minDelay: 1, maxDelay: 5, maxWaitTime: options.maxWaitSeconds ?? 120 },
      { TableName: tableName },
    );
    if (options.timeToLive) {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        }),
      );
    }
  } catch (cause) {
    const e = cause as { name?: string; message?: string };
    throw new DynamoStoreError(
      `creating DynamoDB table ${tableName} failed: ${e.name ?? 'Error'}: ${e.message ?? String(cause)}`,
      { cause },
    );
  }
}
