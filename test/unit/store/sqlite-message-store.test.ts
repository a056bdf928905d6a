import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuthVerdicts } from '../../../lib/auth/verdicts.ts';
import { SchemaVersionError } from '../../../lib/store/errors.ts';
import { SQLITE_SCHEMA_VERSION, SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';

const envelope = { mailFrom: 'alice@example.net', rcptTo: ['support@example.com'] };

describe('SqliteMessageStore', () => {
  let dir: string;
  let file: string;
  let store: SqliteMessageStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailroom-sqlite-'));
    file = join(dir, 'mailroom.db');
    store = new SqliteMessageStore(file);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('uses WAL mode and records its schema version', () => {
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  it('syncs the WAL before a write resolves, in WAL mode, whatever the (deprecated) option asks', async () => {
    const durable = { journalMode: 'wal', synchronous: 'normal', walSyncedBeforeWriteResolves: true };
    expect(store.durability()).toEqual(durable);
    const asked = new SqliteMessageStore(join(dir, 'other.db'), { synchronous: 'normal' });
    try {
      expect(asked.durability()).toEqual(durable);
    } finally {
      await asked.close();
    }
  });

  it('refuses a database written by a newer schema', async () => {
    await store.close();
    const db = new Database(file);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => new SqliteMessageStore(file)).toThrow(SchemaVersionError);
    // only a newer Mailroom can read it: trying again cannot help
    expect(() => new SqliteMessageStore(file)).toThrow(expect.objectContaining({ retryable: false }));
    store = new SqliteMessageStore(':memory:');
  });

  it('lists unfinished and failed messages', async () => {
    for (const id of ['a', 'b', 'c', 'd']) {
      await store.recordReceived({ id, receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 });
    }
    await store.setStatus('b', 'processing');
    await store.setStatus('c', 'processed');
    await store.setStatus('d', 'failed');
    expect(await store.listUnfinished()).toEqual(['a', 'b']);
    expect(await store.listFailed()).toEqual(['d']);
  });

  it('persists across reopening', async () => {
    await store.recordReceived({ id: 'a', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 });
    const auth: AuthVerdicts = {
      source: 'mailauth',
      spf: {
        result: 'pass',
        scope: 'mailfrom',
        domain: 'sender.test',
        mailFrom: 'a@sender.test',
        helo: null,
        clientIp: '192.0.2.1',
      },
      dkim: [],
      dmarc: { result: 'none', domain: 'sender.test', policy: null, alignment: { spf: null, dkim: null } },
      arc: { result: 'none', instance: 0 },
      spam: null,
      virus: null,
    };
    await store.saveAuth('a', auth);
    await store.close();
    store = new SqliteMessageStore(file);
    const m = await store.getMessage('a');
    expect(m?.envelope).toEqual(envelope);
    expect(m?.auth).toEqual(auth);
  });

  it('records an arrival (record, received trace entry, verdicts) in one write, idempotent on id', async () => {
    const auth = { spf: { result: 'none' } } as unknown as AuthVerdicts;
    const arrival = { id: 'a', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 7, auth };
    await store.recordArrival({ ...arrival, trace: '7 bytes' });
    await store.recordArrival({ ...arrival, trace: 'again' });
    await store.close();
    store = new SqliteMessageStore(file);
    const m = await store.getMessage('a');
    expect(m).toMatchObject({ status: 'received', size: 7, envelope, auth });
    expect(m?.trace.map((t) => [t.step, t.detail])).toEqual([['received', '7 bytes']]);
    expect(await store.listMessages({ search: 'alice' })).toHaveLength(1);
  });

  it('works in memory', async () => {
    const mem = new SqliteMessageStore(':memory:');
    await mem.recordReceived({ id: 'a', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 });
    expect(await mem.listMessages()).toHaveLength(1);
    await mem.close();
  });
});
