import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuthVerdicts } from '../../../lib/auth/verdicts.ts';
import type { ParsedMessage } from '../../../lib/message/types.ts';
import {
  SchemaVersionError,
  SQLITE_SCHEMA_VERSION,
  SqliteMessageStore,
} from '../../../lib/store/sqlite-message-store.ts';
import type { DeliveryRecord } from '../../../lib/store/types.ts';

function parsed(over: Partial<ParsedMessage> = {}): ParsedMessage {
  return {
    messageId: '<m1@example.net>',
    date: null,
    subject: 'Hello',
    from: { address: 'alice@example.net', name: 'Alice' },
    to: [],
    cc: [],
    replyTo: [],
    inReplyTo: null,
    references: [],
    text: 'hi',
    html: null,
    attachments: [],
    headers: [],
    reply: { text: 'hi', signature: null },
    thread: { id: 't1' },
    problems: [],
    ...over,
  };
}

function delivery(over: Partial<DeliveryRecord> & { key: string; messageId: string }): DeliveryRecord {
  return {
    recipient: 'support@example.com',
    recipients: ['support@example.com'],
    route: 'support',
    action: 'mailbox',
    mailbox: 'support',
    params: {},
    status: 'pending',
    attempts: 0,
    updatedAt: '2024-01-01T00:00:00.000Z',
    ...over,
  };
}

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

  it('refuses a database written by a newer schema', async () => {
    await store.close();
    const db = new Database(file);
    db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => new SqliteMessageStore(file)).toThrow(SchemaVersionError);
    store = new SqliteMessageStore(':memory:');
  });

  it('records a message once and returns the summary shape', async () => {
    await store.recordReceived({ id: 'a', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 42 });
    await store.recordReceived({
      id: 'a',
      receivedAt: '2025-01-01T00:00:00.000Z',
      envelope: { mailFrom: 'x@y.z', rcptTo: [] },
      size: 1,
    });
    expect(await store.hasMessage('a')).toBe(true);
    expect(await store.hasMessage('b')).toBe(false);
    expect(await store.getMessage('a')).toEqual({
      id: 'a',
      receivedAt: '2024-01-01T00:00:00.000Z',
      envelope: { mailFrom: 'alice@example.net', rcptTo: ['support@example.com'] },
      subject: null,
      from: null,
      status: 'received',
      size: 42,
      threadId: null,
      deliveries: [],
      parsed: null,
      auth: null,
      trace: [],
    });
    expect(await store.getMessage('missing')).toBeNull();
  });

  it('saves the parse result and the fields the summary shows', async () => {
    await store.recordReceived({ id: 'a', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 42 });
    const p = parsed();
    await store.saveParsed('a', p);
    const m = await store.getMessage('a');
    expect(m?.subject).toBe('Hello');
    expect(m?.from).toEqual({ address: 'alice@example.net', name: 'Alice' });
    expect(m?.parsed).toEqual(p);
  });

  it('keeps deliveries in creation order across updates and round-trips every field', async () => {
    await store.recordReceived({ id: 'a', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 });
    await store.putDelivery(delivery({ key: 'a:1', messageId: 'a' }));
    await store.putDelivery(
      delivery({
        key: 'a:2',
        messageId: 'a',
        action: 'handler',
        mailbox: undefined,
        target: 'onReply',
        params: { token: 'x' },
        recipients: ['r1@example.com', 'r2@example.com'],
        recipient: 'r1@example.com',
      }),
    );
    await store.putDelivery(
      delivery({ key: 'a:1', messageId: 'a', status: 'failed', attempts: 3, error: 'boom' }),
    );
    const d2 = await store.getDelivery('a:2');
    expect(d2).toEqual({
      key: 'a:2',
      messageId: 'a',
      recipient: 'r1@example.com',
      recipients: ['r1@example.com', 'r2@example.com'],
      route: 'support',
      action: 'handler',
      target: 'onReply',
      params: { token: 'x' },
      status: 'pending',
      attempts: 0,
      updatedAt: '2024-01-01T00:00:00.000Z',
    });
    expect(await store.getDelivery('nope')).toBeNull();
    const m = await store.getMessage('a');
    expect(m?.deliveries).toEqual([
      {
        recipient: 'support@example.com',
        route: 'support',
        action: 'mailbox',
        mailbox: 'support',
        params: {},
        status: 'failed',
        attempts: 3,
        error: 'boom',
      },
      {
        recipient: 'r1@example.com',
        route: 'support',
        action: 'handler',
        params: { token: 'x' },
        status: 'pending',
        attempts: 0,
      },
    ]);
    expect((await store.listDeliveries('a')).map((d) => d.key)).toEqual(['a:1', 'a:2']);
  });

  it('holds a message in a mailbox once', async () => {
    const entry = {
      mailbox: 'support',
      messageId: 'a',
      data: { n: 1 },
      createdAt: '2024-01-01T00:00:00.000Z',
    };
    expect(await store.putMailboxEntry(entry)).toBe(true);
    expect(await store.putMailboxEntry({ ...entry, data: { n: 2 } })).toBe(false);
    expect(await store.putMailboxEntry({ ...entry, mailbox: 'other' })).toBe(true);
    expect(await store.listMailboxEntries('support')).toEqual([entry]);
    expect(await store.listMailboxEntries('none')).toEqual([]);
  });

  it('lists newest first, filters by mailbox and limits', async () => {
    await store.recordReceived({ id: 'm1', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 });
    await store.recordReceived({ id: 'm3', receivedAt: '2024-01-02T00:00:00.000Z', envelope, size: 1 });
    await store.recordReceived({ id: 'm2', receivedAt: '2024-01-02T00:00:00.000Z', envelope, size: 1 });
    await store.putDelivery(delivery({ key: 'm2:x', messageId: 'm2' }));
    expect((await store.listMessages()).map((m) => m.id)).toEqual(['m3', 'm2', 'm1']);
    expect((await store.listMessages({ limit: 2 })).map((m) => m.id)).toEqual(['m3', 'm2']);
    const listed = await store.listMessages();
    expect(listed[1]?.deliveries).toHaveLength(1);
    expect(listed[0]?.deliveries).toEqual([]);
    expect(listed[0]).not.toHaveProperty('parsed');

    const at = '2024-01-03T00:00:00.000Z';
    await store.putMailboxEntry({ mailbox: 'support', messageId: 'm1', data: null, createdAt: at });
    await store.putMailboxEntry({ mailbox: 'support', messageId: 'm2', data: null, createdAt: at });
    await store.putMailboxEntry({ mailbox: 'sales', messageId: 'm3', data: null, createdAt: at });
    expect((await store.listMessages({ mailbox: 'support' })).map((m) => m.id)).toEqual(['m2', 'm1']);
    expect(await store.listMessages({ mailbox: 'nobody' })).toEqual([]);
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

  it('keeps trace entries in order with their time', async () => {
    await store.close();
    let t = 0;
    store = new SqliteMessageStore(file, { now: () => new Date(Date.UTC(2024, 0, 1, 0, 0, t++)) });
    await store.recordReceived({ id: 'a', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 });
    await store.addTrace('a', 'received', 'one');
    await store.addTrace('a', 'parsed', 'two');
    await store.addTrace('b', 'other', 'three');
    expect((await store.getMessage('a'))?.trace).toEqual([
      { at: '2024-01-01T00:00:00.000Z', step: 'received', detail: 'one' },
      { at: '2024-01-01T00:00:01.000Z', step: 'parsed', detail: 'two' },
    ]);
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

  it('works in memory', async () => {
    const mem = new SqliteMessageStore(':memory:');
    await mem.recordReceived({ id: 'a', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 });
    expect(await mem.listMessages()).toHaveLength(1);
    await mem.close();
  });
});
