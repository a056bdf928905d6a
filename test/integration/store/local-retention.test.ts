import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../lib/config/index.ts';
import { startLocalMailroom } from '../../../lib/dev/local-mailroom.ts';
import type { Logger } from '../../../lib/kernel/index.ts';
import { LocalRawStore } from '../../../lib/store/local-raw-store.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';

const DAY = 86_400_000;

function recordingLogger(lines: Array<{ msg: string; data?: Record<string, unknown> }>): Logger {
  const push = (msg: string, data?: Record<string, unknown>) => lines.push({ msg, data });
  return { debug() {}, info: push, warn: push, error: push };
}

describe('local runtime retention', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailroom-local-retention-'));
    await mkdir(join(dir, 'data'));
    const store = new SqliteMessageStore(join(dir, 'data', 'mailroom.db'));
    const raw = new LocalRawStore(join(dir, 'data'), { journalMaxMessageBytes: 0 });
    const envelope = { mailFrom: 'a@example.net', rcptTo: ['support@example.com'] };
    for (let i = 0; i < 4; i++) {
      const id = `m${i}`;
      await raw.put(id, Buffer.from(`Subject: ${id}\r\n\r\nbody\r\n`), { envelope });
      await store.recordReceived({
        id,
        receivedAt: new Date(Date.now() - (10 - i) * DAY).toISOString(),
        envelope,
        size: 20,
      });
      await store.setStatus(id, 'processed');
    }
    await store.close();
    await raw.close();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function run(retention: unknown, prune?: 'config' | { maxMessages: number }) {
    const config = resolveConfig({
      domains: ['example.com'],
      routes: [],
      dataDir: join(dir, 'data'),
      ...(retention === undefined ? {} : { retention }),
    });
    const lines: Array<{ msg: string; data?: Record<string, unknown> }> = [];
    const mailroom = await startLocalMailroom({
      config,
      logger: recordingLogger(lines),
      smtpPort: 0,
      http: false,
      ...(prune === undefined ? {} : { prune }),
    });
    await mailroom.close(); // waits for a prune in progress
    const store = new SqliteMessageStore(join(dir, 'data', 'mailroom.db'));
    const ids = (await store.listMessages()).map((m) => m.id);
    await store.close();
    const raw = (await readdir(join(dir, 'data', 'raw'))).filter((n) => n.endsWith('.eml')).sort();
    return { ids, raw, pruned: lines.filter((l) => l.msg === 'retention pruned') };
  }

  it("prunes on start with the config's retention: one log line with the counts", {
    timeout: 60_000,
  }, async () => {
    const { ids, raw, pruned } = await run({ maxMessages: 2 });
    expect(ids).toEqual(['m3', 'm2']);
    expect(raw).toEqual(['m2.eml', 'm3.eml']);
    expect(pruned).toEqual([
      {
        msg: 'retention pruned',
        data: expect.objectContaining({ messages: 2, attachments: 0, dryRun: false }),
      },
    ]);
  });

  it('uses the default policy it is given (mailroom dev) when the config has none; the config wins', {
    timeout: 60_000,
  }, async () => {
    expect((await run(undefined, { maxMessages: 3 })).ids).toEqual(['m3', 'm2', 'm1']);
    expect((await run({ maxMessages: 2 }, { maxMessages: 3 })).ids).toEqual(['m3', 'm2']);
  });

  it('prunes nothing without retention in the config (mailroom smtp), nor with an empty one', {
    timeout: 60_000,
  }, async () => {
    const none = await run(undefined, 'config');
    expect(none.ids).toEqual(['m3', 'm2', 'm1', 'm0']);
    expect(none.pruned).toEqual([]);
    const empty = await run({}, { maxMessages: 1 });
    expect(empty.ids).toEqual(['m3', 'm2', 'm1', 'm0']);
  });
});
