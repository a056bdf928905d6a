import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';
import { describeMessageStoreContract } from '../../support/message-store-contract.ts';

// The behaviour every MessageStore shares; DynamoMessageStore runs the same cases against dynalite
// (test/integration/aws/dynamo-message-store.test.ts).
describeMessageStoreContract('SqliteMessageStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mailroom-contract-'));
  return {
    open: async (options) => new SqliteMessageStore(join(dir, 'mailroom.db'), { ...options }),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
});
