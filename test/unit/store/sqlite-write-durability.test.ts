import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeliveryRecord } from '../../../lib/store/records.ts';
import { SqliteDatabase } from '../../../lib/store/sqlite-database.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';
import { delivery as contractDelivery, parsedFixture } from '../../support/message-store-contract.ts';

const delivery = (over: Partial<DeliveryRecord>): DeliveryRecord =>
  contractDelivery({ key: 'm1:support:mailbox', messageId: 'm1', ...over });

describe('SqliteMessageStore: which writes wait for the disk', () => {
  let dir: string;
  let store: SqliteMessageStore;
  let relaxed: boolean[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mailroom-write-durability-'));
    store = new SqliteMessageStore(join(dir, 'mailroom.db'));
    await store.recordReceived({
      id: 'm1',
      receivedAt: '2024-01-01T00:00:00.000Z',
      envelope: { mailFrom: 'a@example.com', rcptTo: ['support@example.com'] },
      size: 10,
    });
    relaxed = [];
    const write = SqliteDatabase.prototype.write;
    vi.spyOn(SqliteDatabase.prototype, 'write').mockImplementation(function <T>(
      this: SqliteDatabase,
      run: () => T,
      options?: { relaxed?: boolean },
    ) {
      relaxed.push(options?.relaxed ?? false);
      return write.call(this, run, options) as Promise<T>;
    });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits what a second run of the message makes again without its own fsync', async () => {
    await store.addTrace('m1', 'parsed', 'ok');
    await store.saveAuth('m1', null);
    await store.setStatus('m1', 'processing');
    await store.saveParsed('m1', parsedFixture());
    await store.putDelivery(delivery({}));
    // Redone without a duplicate: a mailbox entry (the insert is a no-op when it survived), a delivery
    // whose effect is in the store (its caller says so), `processed` (what the delivery records imply).
    await store.putMailboxEntry({
      mailbox: 'support',
      messageId: 'm1',
      data: { route: 'support' },
      createdAt: '2024-01-01T00:00:01.000Z',
    });
    await store.putDelivery(delivery({ status: 'delivered', attempts: 1 }), { relaxed: true });
    await store.setStatus('m1', 'processed');
    expect(relaxed).toEqual([true, true, true, true, true, true, true, true]);
  });

  it('waits for the disk for outcomes exactly-once effects rely on', async () => {
    await store.putDelivery(delivery({ status: 'delivered', attempts: 1 }));
    await store.putDelivery(delivery({ status: 'pending', attempts: 1, error: 'timeout' }));
    await store.putDelivery(delivery({ status: 'failed', attempts: 3 }));
    await store.setStatus('m1', 'failed');
    expect(relaxed).toEqual([false, false, false, false]);
  });
});
