import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../lib/kernel/index.ts';
import type { AttachmentStore, AttachmentUpload, MessageStatus } from '../../../lib/store/index.ts';
import { LocalRawStore } from '../../../lib/store/local-raw-store.ts';
import { type PruneResult, pruneMessages } from '../../../lib/store/retention.ts';
import { schedulePruning } from '../../../lib/store/retention-schedule.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';
import { parsedFixture } from '../../support/message-store-contract.ts';

const NOW = new Date('2024-06-30T12:00:00.000Z');
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** An attachment store in memory with a settable "last used" time (the real ones are att-core's). */
class FakeAttachmentStore implements AttachmentStore {
  readonly items = new Map<string, { bytes: Buffer; lastUsedAt: string }>();
  add(content: string, lastUsedAt: string): string {
    const hash = sha(content);
    this.items.set(hash, { bytes: Buffer.from(content), lastUsedAt });
    return hash;
  }
  begin(): AttachmentUpload {
    throw new Error('not used by retention');
  }
  async open(sha256: string): Promise<Readable | null> {
    const item = this.items.get(sha256);
    return item ? Readable.from([item.bytes]) : null;
  }
  async has(sha256: string): Promise<boolean> {
    return this.items.has(sha256);
  }
  async delete(sha256: string): Promise<void> {
    this.items.delete(sha256);
  }
  async *list(): AsyncIterable<{ sha256: string; size: number; lastUsedAt: string }> {
    for (const [hash, item] of this.items)
      yield { sha256: hash, size: item.bytes.length, lastUsedAt: item.lastUsedAt };
  }
}

describe('pruneMessages', () => {
  let dir: string;
  let store: SqliteMessageStore;
  let rawStore: LocalRawStore;
  let attachments: FakeAttachmentStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailroom-retention-'));
    store = new SqliteMessageStore(join(dir, 'mailroom.db'));
    rawStore = new LocalRawStore(dir, { journalMaxMessageBytes: 0 });
    attachments = new FakeAttachmentStore();
  });
  afterEach(async () => {
    await store.close();
    await rawStore.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function message(
    id: string,
    receivedAt: string,
    status: MessageStatus,
    attachmentHashes: string[] = [],
  ) {
    const envelope = { mailFrom: 'a@example.net', rcptTo: ['support@example.com'] };
    const raw = Buffer.from(`Subject: ${id}\r\n\r\n${'x'.repeat(100)}\r\n`);
    await rawStore.put(id, raw, { envelope });
    await store.recordReceived({ id, receivedAt, envelope, size: raw.length });
    await store.saveParsed(
      id,
      parsedFixture({
        messageId: `<${id}@x>`,
        thread: { id: `t-${id}` },
        attachments: attachmentHashes.map((h) => ({
          filename: 'a.bin',
          contentType: 'application/octet-stream',
          size: 4,
          sha256: h,
          contentId: null,
          disposition: 'attachment',
          url: null,
          stored: true,
          related: false,
        })),
      }),
    );
    await store.setStatus(id, status);
  }

  /** Old messages, a kept one sharing an attachment, one still processing, and attachments of each kind. */
  async function scene() {
    const shared = attachments.add('shared', '2024-01-01T00:00:00.000Z');
    const onlyOld = attachments.add('only-old', '2024-01-01T00:00:00.000Z');
    const orphanStale = attachments.add('orphan-stale', '2024-06-30T10:00:00.000Z');
    const inFlight = attachments.add('in-flight', '2024-06-30T11:50:00.000Z'); // stored 10 min ago, no message yet
    await message('old1', '2024-01-10T00:00:00.000Z', 'processed', [shared, onlyOld]);
    await message('old2', '2024-02-10T00:00:00.000Z', 'failed');
    await message('busy', '2024-01-05T00:00:00.000Z', 'processing', []);
    await message('new1', '2024-06-29T00:00:00.000Z', 'processed', [shared]);
    return { shared, onlyOld, orphanStale, inFlight };
  }

  it('deletes old messages (records, raw files) and their unreferenced attachments; keeps the rest', async () => {
    const h = await scene();
    const result = await pruneMessages({
      store,
      rawStore,
      attachments,
      retention: { maxAgeDays: 30 },
      now: NOW,
    });
    expect(result).toMatchObject({
      messages: 2,
      attachments: 2,
      attachmentBytes: 'only-old'.length + 'orphan-stale'.length,
      dryRun: false,
    });
    expect(result.rawBytes).toBeGreaterThan(2 * 100);
    // records
    expect(await store.getMessage('old1')).toBeNull();
    expect(await store.getMessage('old2')).toBeNull();
    expect((await store.listMessages()).map((m) => m.id).sort()).toEqual(['busy', 'new1']);
    // raw files (bytes and envelope sidecars)
    expect((await readdir(join(dir, 'raw'))).sort()).toEqual([
      'busy.eml',
      'busy.envelope.json',
      'new1.eml',
      'new1.envelope.json',
    ]);
    // attachments: the one a kept message references stays, the one being stored right now stays
    expect([...attachments.items.keys()].sort()).toEqual([h.shared, h.inFlight].sort());
    // a second run finds nothing more
    expect(
      await pruneMessages({ store, rawStore, attachments, retention: { maxAgeDays: 30 }, now: NOW }),
    ).toEqual({
      messages: 0,
      rawBytes: 0,
      attachments: 0,
      attachmentBytes: 0,
      dryRun: false,
    });
  });

  it('never deletes a message being processed, however old, nor beyond the count', async () => {
    await scene();
    await pruneMessages({
      store,
      rawStore,
      attachments,
      retention: { maxMessages: 1, maxAgeDays: 2 },
      now: NOW,
    });
    expect((await store.listMessages()).map((m) => m.id).sort()).toEqual(['busy', 'new1']);
    expect((await rawStore.get('busy')).length).toBeGreaterThan(0);
  });

  it('keeps the newest maxMessages', async () => {
    await scene();
    const result = await pruneMessages({ store, rawStore, retention: { maxMessages: 2 }, now: NOW });
    // newest two are new1 and old2; busy is older but still processing
    expect(result.messages).toBe(1);
    expect((await store.listMessages()).map((m) => m.id)).toEqual(['new1', 'old2', 'busy']);
    expect(attachments.items.size).toBe(4); // no attachment store given: attachments untouched
  });

  it('dry run counts what would go and changes nothing', async () => {
    const h = await scene();
    const before = await store.listMessages();
    const raw = (await readdir(join(dir, 'raw'))).sort();
    const result = await pruneMessages({
      store,
      rawStore,
      attachments,
      retention: { maxAgeDays: 30 },
      now: NOW,
      dryRun: true,
    });
    expect(result).toMatchObject({ messages: 2, attachments: 2, dryRun: true });
    expect(result.rawBytes).toBeGreaterThan(200);
    expect(await store.listMessages()).toEqual(before);
    expect((await readdir(join(dir, 'raw'))).sort()).toEqual(raw);
    expect(attachments.items.size).toBe(4);
    expect(await store.referencedAttachments()).toEqual(new Set([h.shared, h.onlyOld]));
  });

  it('an attachment grace period decides when an unreferenced attachment goes', async () => {
    const h = await scene();
    await pruneMessages({ store, rawStore, attachments, retention: { attachmentGraceHours: 0.1 }, now: NOW });
    // nothing expires without limits, but the in-flight one is now older than 6 minutes
    expect(await store.hasMessage('old1')).toBe(true);
    expect([...attachments.items.keys()].sort()).toEqual([h.shared, h.onlyOld].sort());
  });
});

describe('schedulePruning', () => {
  it('runs on start, never twice at once, logs one line per run, and survives a failing run', async () => {
    const lines: Array<{ msg: string; data?: Record<string, unknown> }> = [];
    const logger = {
      ...silentLogger,
      info: (msg: string, data?: Record<string, unknown>) => lines.push({ msg, data }),
      warn: (msg: string, data?: Record<string, unknown>) => lines.push({ msg, data }),
    };
    let runs = 0;
    let release: () => void = () => {};
    let fail = false;
    const result: PruneResult = {
      messages: 1,
      rawBytes: 2,
      attachments: 3,
      attachmentBytes: 4,
      dryRun: false,
    };
    const schedule = schedulePruning({
      logger,
      intervalMs: 3_600_000,
      prune: async () => {
        runs++;
        await new Promise<void>((r) => {
          release = r;
        });
        if (fail) throw new Error('disk gone');
        return result;
      },
    });
    const again = schedule.runNow(); // the start-up run is still going: joined, not doubled
    expect(runs).toBe(1);
    release();
    expect(await again).toEqual(result);
    expect(lines).toEqual([{ msg: 'retention pruned', data: { ...result } }]);
    fail = true;
    const failing = schedule.runNow();
    release();
    expect(await failing).toBeNull();
    expect(lines[1]).toEqual({
      msg: 'retention prune failed',
      data: { error: expect.stringContaining('disk gone') },
    });
    await schedule.stop();
    expect(runs).toBe(2);
  });
});
