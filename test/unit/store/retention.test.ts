import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../lib/kernel/index.ts';
import type { MessageStatus } from '../../../lib/store/index.ts';
import { LocalAttachmentStore } from '../../../lib/store/local-attachment-store.ts';
import { LocalRawStore } from '../../../lib/store/local-raw-store.ts';
import { type PruneResult, pruneMessages } from '../../../lib/store/retention.ts';
import { schedulePruning } from '../../../lib/store/retention-schedule.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';
import { parsedFixture } from '../../support/message-store-contract.ts';

// the attachment store dates files by the real clock: retention is judged from now
const NOW = new Date();
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

const DAY = 24 * 60 * 60 * 1000;
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

/** Stores `content` in the attachment store and dates its last use `msAgo` before NOW (the file's mtime). */
async function storeAttachment(
  attachments: LocalAttachmentStore,
  content: string,
  msAgo: number,
): Promise<string> {
  const upload = attachments.begin();
  await upload.write(Buffer.from(content));
  const hash = sha(content);
  await upload.commit(hash);
  const when = new Date(NOW.getTime() - msAgo);
  await utimes(attachments.pathOf(hash), when, when);
  return hash;
}

async function storedHashes(attachments: LocalAttachmentStore): Promise<string[]> {
  const out: string[] = [];
  for await (const a of attachments.list()) out.push(a.sha256);
  return out.sort();
}

describe('pruneMessages', () => {
  let dir: string;
  let store: SqliteMessageStore;
  let rawStore: LocalRawStore;
  let attachments: LocalAttachmentStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailroom-retention-'));
    store = new SqliteMessageStore(join(dir, 'mailroom.db'));
    rawStore = new LocalRawStore(dir, { journalMaxMessageBytes: 0 });
    attachments = new LocalAttachmentStore(dir);
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
    const shared = await storeAttachment(attachments, 'shared', 170 * DAY);
    const onlyOld = await storeAttachment(attachments, 'only-old', 170 * DAY);
    const orphanStale = await storeAttachment(attachments, 'orphan-stale', 2 * 60 * 60 * 1000);
    // stored 10 minutes ago for a message not saved yet
    const inFlight = await storeAttachment(attachments, 'in-flight', 10 * 60 * 1000);
    await message('old1', ago(170 * DAY), 'processed', [shared, onlyOld]);
    await message('old2', ago(140 * DAY), 'failed');
    await message('busy', ago(175 * DAY), 'processing', []);
    await message('new1', ago(1.5 * DAY), 'processed', [shared]);
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
    expect(await storedHashes(attachments)).toEqual([h.shared, h.inFlight].sort());
    // their files are gone from the data directory
    const onDisk = (await readdir(join(dir, 'attachments'), { recursive: true })).filter((n) =>
      /[0-9a-f]{64}$/.test(n),
    );
    expect(onDisk.map((n) => n.slice(-64)).sort()).toEqual([h.shared, h.inFlight].sort());
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
    expect(await storedHashes(attachments)).toHaveLength(4); // no attachment store given: untouched
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
    expect(await storedHashes(attachments)).toHaveLength(4);
    expect(await store.referencedAttachments()).toEqual(new Set([h.shared, h.onlyOld]));
  });

  it('an attachment grace period decides when an unreferenced attachment goes', async () => {
    const h = await scene();
    await pruneMessages({ store, rawStore, attachments, retention: { attachmentGraceHours: 0.1 }, now: NOW });
    // nothing expires without limits, but the in-flight one is now older than 6 minutes
    expect(await store.hasMessage('old1')).toBe(true);
    expect(await storedHashes(attachments)).toEqual([h.shared, h.onlyOld].sort());
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
