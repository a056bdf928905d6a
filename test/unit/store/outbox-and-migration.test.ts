import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ParsedMessage } from '../../../lib/message/types.ts';
import type { OutboxEntry } from '../../../lib/store/index.ts';
import { SQLITE_SCHEMA_VERSION, SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';
import { parsedFixture } from '../../support/message-store-contract.ts';

/** Today's schema back to version 3: without what version 4 added (see sqlite-schema.ts). */
const WITHOUT_VERSION_4 = `
  DROP TABLE message_parses;
  DROP TABLE message_search; DROP TABLE search_docs; DROP TABLE attachment_refs; DROP TABLE message_routes;
  DROP INDEX mailbox_entries_newest; ALTER TABLE mailbox_entries DROP COLUMN received_at;
  DROP INDEX messages_delivery_failed; DROP INDEX messages_status;
  CREATE INDEX messages_status ON messages (status);
  ALTER TABLE messages DROP COLUMN failed_deliveries; ALTER TABLE messages DROP COLUMN read;
`;

/**
 * A message row as an older schema held it (only columns every version has, plus `extra`): from a@example.net
 * to support@, 1 byte, processed on 2024-01-01 unless `extra` says otherwise.
 */
function insertOldMessage(
  db: Database.Database,
  id: string,
  extra: Record<string, string | null> = {},
): void {
  const row = {
    id,
    received_at: '2024-01-01T00:00:00.000Z',
    mail_from: 'a@example.net',
    rcpt_to: '["support@example.com"]',
    size: 1,
    status: 'processed',
    ...extra,
  };
  const columns = Object.keys(row);
  db.prepare(
    `INSERT INTO messages (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`,
  ).run(row);
}

/** Records message `id` as received (a parse can only be saved for a message on record). */
function receive(store: SqliteMessageStore, id: string): Promise<void> {
  return store.recordReceived({
    id,
    receivedAt: '2024-01-01T00:00:00.000Z',
    envelope: { mailFrom: 'a@example.net', rcptTo: ['support@example.com'] },
    size: 1,
  });
}

function entry(over: Partial<OutboxEntry> = {}): OutboxEntry {
  return {
    id: '0123456789abcdef0123456789abcdef',
    messageId: '<0123456789abcdef0123456789abcdef@example.com>',
    inReplyTo: 'msg1',
    envelope: { from: 'support@example.com', to: ['ada@example.net'] },
    subject: 'Re: Hello',
    createdAt: '2024-05-01T12:00:00.000Z',
    transport: 'outbox',
    raw: Buffer.from('Subject: Re: Hello\r\n\r\nhi\r\n'),
    ...over,
  };
}

describe('SqliteMessageStore outbox', () => {
  let store: SqliteMessageStore;
  beforeEach(() => {
    store = new SqliteMessageStore(':memory:');
  });
  afterEach(async () => {
    await store.close();
  });

  it('keeps an entry once, by id, and returns its bytes', async () => {
    expect(await store.putOutboxEntry(entry())).toBe(true);
    expect(await store.putOutboxEntry(entry({ subject: 'changed', raw: Buffer.from('x') }))).toBe(false);
    const got = await store.getOutboxEntry(entry().id);
    expect(got).toEqual(entry());
    expect(Buffer.isBuffer(got?.raw)).toBe(true);
    expect(await store.getOutboxEntry('nope')).toBeNull();
  });

  it('lists newest first without bytes, filters by original and limits', async () => {
    await store.putOutboxEntry(entry({ id: 'a1', createdAt: '2024-05-01T12:00:00.000Z' }));
    await store.putOutboxEntry(entry({ id: 'a2', createdAt: '2024-05-01T13:00:00.000Z', inReplyTo: 'msg2' }));
    await store.putOutboxEntry(
      entry({ id: 'a3', createdAt: '2024-05-01T14:00:00.000Z', inReplyTo: null, transport: 'smtp' }),
    );
    const all = await store.listOutbox();
    expect(all.map((e) => e.id)).toEqual(['a3', 'a2', 'a1']);
    expect(all[2]).toEqual({
      id: 'a1',
      messageId: entry().messageId,
      inReplyTo: 'msg1',
      from: 'support@example.com',
      to: ['ada@example.net'],
      subject: 'Re: Hello',
      createdAt: '2024-05-01T12:00:00.000Z',
      transport: 'outbox',
      size: entry().raw.length,
    });
    expect((await store.listOutbox({ inReplyTo: 'msg2' })).map((e) => e.id)).toEqual(['a2']);
    expect((await store.listOutbox({ limit: 1 })).map((e) => e.id)).toEqual(['a3']);
  });
});

describe('SqliteMessageStore schema migration', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailroom-migrate-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is at version 5', () => {
    expect(SQLITE_SCHEMA_VERSION).toBe(5);
  });

  it('moves a version 4 database to version 5: parses leave the message rows, details and threads keep them', async () => {
    const file = join(dir, 'mailroom.db');
    await new SqliteMessageStore(file).close();
    const db = new Database(file);
    db.exec('DROP TABLE message_parses');
    const parsed = {
      messageId: '<v4@example.net>',
      subject: 'Kept',
      text: 'body',
      thread: { id: 't'.repeat(24) },
    };
    insertOldMessage(db, 'v4', {
      subject: 'Kept',
      parsed: JSON.stringify(parsed),
      thread_id: parsed.thread.id,
    });
    insertOldMessage(db, 'unparsed', { received_at: '2024-01-02T00:00:00.000Z', status: 'received' });
    db.pragma('user_version = 4');
    db.close();

    const store = new SqliteMessageStore(file);
    try {
      expect((await store.getMessage('v4'))?.parsed).toMatchObject({ subject: 'Kept', text: 'body' });
      expect((await store.getMessage('unparsed'))?.parsed).toBeNull();
      const check = new Database(file, { readonly: true });
      expect(check.pragma('user_version', { simple: true })).toBe(5);
      expect(check.prepare('SELECT count(*) AS n FROM messages WHERE parsed IS NOT NULL').get()).toEqual({
        n: 0,
      });
      expect(check.prepare('SELECT message_id FROM message_parses').all()).toEqual([{ message_id: 'v4' }]);
      check.close();
      expect(await store.deleteMessage('v4')).toBe(true);
      const after = new Database(file, { readonly: true });
      expect(after.prepare('SELECT count(*) AS n FROM message_parses').get()).toEqual({ n: 0 });
      after.close();
    } finally {
      await store.close();
    }
  });

  it('gives back a parse whose reply text differs from its text, or is empty, as it was saved', async () => {
    const store = new SqliteMessageStore(':memory:');
    try {
      const cases = [
        { text: 'Yes.\n\nOn Monday, Ada wrote:\n> Ok?', reply: { text: 'Yes.', signature: null } },
        { text: '', reply: { text: '', signature: null } },
        { text: '\n  Hello\n\n', reply: { text: 'Hello', signature: null } },
        { text: ' Hello\n', reply: { text: ' Hello', signature: null } },
        { text: null, reply: { text: 'from the html', signature: null } },
        { text: 'Thanks\n-- \nAda', reply: { text: 'Thanks', signature: 'Ada' } },
      ];
      for (const [i, c] of cases.entries()) {
        const id = `m${i}`;
        await receive(store, id);
        const parsed = parsedFixture({ messageId: `<${id}@example.net>`, subject: 'Re: x', ...c });
        const { threadId } = await store.saveParsed(id, parsed);
        expect((await store.getMessage(id))?.parsed).toEqual({ ...parsed, thread: { id: threadId } });
      }
    } finally {
      await store.close();
    }
  });

  it('keeps a saved parse out of the message row (a status update does not rewrite it), its reply text once', async () => {
    const file = join(dir, 'mailroom.db');
    const store = new SqliteMessageStore(file);
    try {
      await receive(store, 'm1');
      const text = `${'x'.repeat(100_000)}\n`; // the reply's text is this, trimmed (extractReply)
      const parsed = parsedFixture({
        messageId: '<m1@example.net>',
        subject: 'Big',
        text,
        reply: { text: text.trim(), signature: null },
      });
      const { threadId } = await store.saveParsed('m1', parsed);
      await store.setStatus('m1', 'processed');
      const detail = await store.getMessage('m1');
      expect(detail?.status).toBe('processed');
      expect(detail?.parsed?.text).toBe(text);
      expect(detail?.parsed?.thread).toEqual({ id: threadId });
      expect(detail?.parsed).toEqual({ ...parsed, thread: { id: threadId } });
      const check = new Database(file, { readonly: true });
      const row = check.prepare('SELECT length(parsed) AS parsed FROM messages WHERE id = ?').get('m1');
      expect(row).toEqual({ parsed: null });
      const kept = check
        .prepare('SELECT length(parsed) AS n FROM message_parses WHERE message_id = ?')
        .get('m1');
      // the reply's text is the whole text: kept once
      expect((kept as { n: number }).n).toBeGreaterThan(100_000);
      expect((kept as { n: number }).n).toBeLessThan(101_000);
      check.close();
    } finally {
      await store.close();
    }
  });

  it('moves a version 3 database to version 4 in place: search, attachment refs and filters cover old messages', async () => {
    const file = join(dir, 'mailroom.db');
    await new SqliteMessageStore(file).close();
    const db = new Database(file);
    db.exec(WITHOUT_VERSION_4);
    const sha = 'd'.repeat(64);
    const parsed = {
      messageId: '<v3@example.net>',
      subject: 'Legacy invoice',
      from: { address: 'old@example.net', name: 'Olde Sender' },
      to: [{ address: 'books@example.com', name: '' }],
      cc: [],
      text: 'The quarterly numbers',
      attachments: [{ sha256: sha, filename: 'a.pdf', contentType: 'application/pdf', size: 1 }],
      thread: { id: 'cccccccccccccccccccccccc' },
    };
    insertOldMessage(db, 'v3', { subject: 'Legacy invoice', parsed: JSON.stringify(parsed) });
    insertOldMessage(db, 'damaged', {
      received_at: '2024-01-02T00:00:00.000Z',
      subject: null,
      parsed: '{not json',
    });
    db.prepare(
      `INSERT INTO deliveries (key, message_id, recipient, recipients, route, action, params, status, attempts, updated_at)
         VALUES ('v3:k', 'v3', 'support@example.com', '[]', 'billing', 'webhook', '{}', 'failed', 3, 'x')`,
    ).run();
    db.prepare(
      `INSERT INTO mailbox_entries (mailbox, message_id, data, created_at) VALUES ('support', 'v3', NULL, 'x')`,
    ).run();
    db.pragma('user_version = 3');
    db.close();

    const store = new SqliteMessageStore(file);
    try {
      const check = new Database(file, { readonly: true });
      expect(check.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
      check.close();
      const found = async (search: string) => (await store.listMessages({ search })).map((m) => m.id);
      expect(await found('legacy')).toEqual(['v3']);
      expect(await found('olde quarterly')).toEqual(['v3']);
      expect(await found('books@example.com')).toEqual(['v3']);
      expect(await found('support@example.com')).toEqual(['damaged', 'v3']); // envelope of both
      expect(await store.referencedAttachments()).toEqual(new Set([sha]));
      expect((await store.listMessages({ deliveryFailed: true })).map((m) => m.id)).toEqual(['v3']);
      expect((await store.listMessages({ route: 'billing' })).map((m) => m.id)).toEqual(['v3']);
      expect((await store.listMessages({ mailbox: 'support' })).map((m) => m.id)).toEqual(['v3']);
      expect((await store.listMessages()).map((m) => m.read)).toEqual([false, false]);
      expect(await store.listMailboxes()).toEqual([{ name: 'support', count: 1, unread: 1 }]);
      expect(await store.deleteMessage('v3')).toBe(true);
      expect(await found('legacy')).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('moves a version 2 database to version 3: messages keep their records, client address and HELO are new', async () => {
    const file = join(dir, 'mailroom.db');
    await new SqliteMessageStore(file).close();
    const db = new Database(file);
    db.exec(WITHOUT_VERSION_4);
    db.exec('ALTER TABLE messages DROP COLUMN remote_address; ALTER TABLE messages DROP COLUMN helo;');
    insertOldMessage(db, 'old');
    db.pragma('user_version = 2');
    db.close();

    const store = new SqliteMessageStore(file);
    try {
      const check = new Database(file, { readonly: true });
      expect(check.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
      check.close();
      expect((await store.getMessage('old'))?.envelope).toEqual({
        mailFrom: 'a@example.net',
        rcptTo: ['support@example.com'],
      });
      await store.recordReceived({
        id: 'new',
        receivedAt: '2024-01-02T00:00:00.000Z',
        envelope: {
          mailFrom: 'b@example.net',
          rcptTo: ['support@example.com'],
          remoteAddress: '192.0.2.7',
          helo: 'mail.example.net',
        },
        size: 1,
      });
      expect((await store.getMessage('new'))?.envelope).toEqual({
        mailFrom: 'b@example.net',
        rcptTo: ['support@example.com'],
        remoteAddress: '192.0.2.7',
        helo: 'mail.example.net',
      });
      expect((await store.listMessages())[0]?.envelope.remoteAddress).toBe('192.0.2.7');
    } finally {
      await store.close();
    }
  });

  it('moves a version 1 database to the current version and files its messages in threads', async () => {
    const file = join(dir, 'mailroom.db');
    // Make a version 1 database: today's schema without what version 2 added.
    await new SqliteMessageStore(file).close();
    const db = new Database(file);
    db.exec(WITHOUT_VERSION_4);
    db.exec(`
      DROP TABLE outbox;
      DROP INDEX messages_thread; DROP INDEX messages_header_message_id;
      DROP INDEX messages_thread_index_root; DROP INDEX messages_subject_key;
      ALTER TABLE messages DROP COLUMN thread_id; ALTER TABLE messages DROP COLUMN header_message_id;
      ALTER TABLE messages DROP COLUMN thread_index_root; ALTER TABLE messages DROP COLUMN subject_key;
      ALTER TABLE messages DROP COLUMN remote_address; ALTER TABLE messages DROP COLUMN helo;
    `);
    const parsed = {
      messageId: '<old@example.net>',
      subject: 'Old',
      thread: { id: 'aaaaaaaaaaaaaaaaaaaaaaaa' },
    } as Partial<ParsedMessage>;
    insertOldMessage(db, 'old', { subject: 'Old', parsed: JSON.stringify(parsed) });
    db.pragma('user_version = 1');
    db.close();

    const store = new SqliteMessageStore(file);
    try {
      const check = new Database(file, { readonly: true });
      expect(check.pragma('user_version', { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
      check.close();
      expect((await store.listThread('aaaaaaaaaaaaaaaaaaaaaaaa')).map((m) => m.id)).toEqual(['old']);
      expect(await store.listOutbox()).toEqual([]);
      // a reply to the old message finds it by its Message-ID
      await store.recordReceived({
        id: 'new',
        receivedAt: '2024-01-02T00:00:00.000Z',
        envelope: { mailFrom: 'a@example.net', rcptTo: ['support@example.com'] },
        size: 1,
      });
      const { threadId } = await store.saveParsed('new', {
        messageId: '<new@example.net>',
        date: null,
        subject: 'Re: Old',
        from: null,
        to: [],
        cc: [],
        replyTo: [],
        inReplyTo: '<old@example.net>',
        references: [],
        text: null,
        html: null,
        attachments: [],
        headers: [],
        reply: { text: '', signature: null },
        thread: { id: 'bbbbbbbbbbbbbbbbbbbbbbbb' },
        problems: [],
      });
      expect(threadId).toBe('aaaaaaaaaaaaaaaaaaaaaaaa');
    } finally {
      await store.close();
    }
  });
});
