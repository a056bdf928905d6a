/**
 * The behaviour every {@link MessageStore} shares, as one suite that runs against any implementation:
 * call {@link describeMessageStoreContract} from a test file with a factory for the store under test
 * (the DynamoDB store runs it against dynalite; the SQLite store can run it the same way).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuthVerdicts } from '../../lib/auth/verdicts.ts';
import { parseMessage } from '../../lib/message/parse-message.ts';
import type { ParsedMessage } from '../../lib/message/types.ts';
import type { DeliveryRecord, MessageStore, OutboxEntry } from '../../lib/store/index.ts';

/** Where the stores of one test keep their data. */
export interface MessageStoreBackend {
  /** Opens a store on this backend's data; a store opened later sees what earlier ones wrote. */
  open(options?: { now?: () => Date }): Promise<MessageStore>;
  /** Removes the data; called after every store opened on it was closed. */
  dispose(): Promise<void>;
}

export function parsedFixture(over: Partial<ParsedMessage> = {}): ParsedMessage {
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

/** A delivery record with defaults (the `support` mailbox route, pending, no attempts). */
export function delivery(over: Partial<DeliveryRecord> & { key: string; messageId: string }): DeliveryRecord {
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

function outboxEntry(over: Partial<OutboxEntry> = {}): OutboxEntry {
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

/** A message as a client would write it: header lines, a blank line, the body; CRLF line ends. */
function eml(headers: string[], body: string[]): Buffer {
  return Buffer.from([...headers, '', ...body, ''].join('\r\n'));
}

/** An Outlook Thread-Index: 22 bytes naming the conversation, then 5 bytes per reply. */
function threadIndex(root: Buffer, replies: number): string {
  const blocks = Array.from({ length: replies }, (_, i) => Buffer.from([0x01, 0x02, 0x03, 0x04, i]));
  return Buffer.concat([root, ...blocks]).toString('base64');
}

const outlookRoot = Buffer.from('01da9c1e5f4b7a3e2d1c0b9a8f7e6d5c4b3a2918f0e1', 'hex');

const envelope = { mailFrom: 'alice@example.net', rcptTo: ['support@example.com'] };

/** Registers the shared behaviour of a message store as a `describe` block named `name`. */
export function describeMessageStoreContract(
  name: string,
  createBackend: () => Promise<MessageStoreBackend>,
): void {
  describe(`${name} (MessageStore contract)`, () => {
    let backend: MessageStoreBackend;
    let store: MessageStore;
    const opened: MessageStore[] = [];
    const open = async (options?: { now?: () => Date }): Promise<MessageStore> => {
      const s = await backend.open(options);
      opened.push(s);
      return s;
    };

    beforeEach(async () => {
      backend = await createBackend();
      store = await open();
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      await backend.dispose();
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

    it('records a message once when the same id is recorded concurrently', async () => {
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.recordReceived({
            id: 'c',
            receivedAt: `2024-01-01T00:00:0${i}.000Z`,
            envelope: { mailFrom: `s${i}@example.net`, rcptTo: ['support@example.com'] },
            size: i,
          }),
        ),
      );
      const m = await store.getMessage('c');
      expect(m).not.toBeNull();
      // whichever won, the record is one whole write, never a mix of two
      const i = m!.size;
      expect(m?.receivedAt).toBe(`2024-01-01T00:00:0${i}.000Z`);
      expect(m?.envelope.mailFrom).toBe(`s${i}@example.net`);
      expect(await store.listMessages()).toHaveLength(1);
    });

    it('keeps the client address and HELO name of the envelope', async () => {
      const smtpEnvelope = { ...envelope, remoteAddress: '192.0.2.7', helo: 'mail.example.net' };
      await store.recordReceived({
        id: 'a',
        receivedAt: '2024-01-02T00:00:00.000Z',
        envelope: smtpEnvelope,
        size: 1,
      });
      expect((await store.getMessage('a'))?.envelope).toEqual(smtpEnvelope);
      expect((await store.listMessages())[0]?.envelope).toEqual(smtpEnvelope);
    });

    it('saves the parse result and the fields the summary shows', async () => {
      await store.recordReceived({ id: 'a', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 42 });
      const p = parsedFixture();
      expect(await store.saveParsed('a', p)).toEqual({ threadId: 't1' });
      const m = await store.getMessage('a');
      expect(m?.subject).toBe('Hello');
      expect(m?.from).toEqual({ address: 'alice@example.net', name: 'Alice' });
      expect(m?.threadId).toBe('t1');
      expect(m?.parsed).toEqual(p);
    });

    it('keeps a parse without subject or sender as nulls', async () => {
      await store.recordReceived({ id: 'a', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 });
      await store.saveParsed('a', parsedFixture({ subject: null, from: null, messageId: null }));
      const m = await store.getMessage('a');
      expect(m?.subject).toBeNull();
      expect(m?.from).toBeNull();
      expect(m?.parsed?.subject).toBeNull();
    });

    it('answers the thread of a parse for an unrecorded message but keeps nothing', async () => {
      expect(await store.saveParsed('ghost', parsedFixture())).toEqual({ threadId: 't1' });
      expect(await store.hasMessage('ghost')).toBe(false);
      expect(await store.getMessage('ghost')).toBeNull();
      expect(await store.listThread('t1')).toEqual([]);
    });

    it('keeps a large parse whole', async () => {
      await store.recordReceived({ id: 'a', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 });
      const line = 'The quick brown fox jumps over the lazy dog. ';
      const p = parsedFixture({
        text: line.repeat(20_000),
        html: `<p>${line.repeat(20_000)}</p>`,
        headers: Array.from({ length: 300 }, (_, i) => ({ key: `x-h${i}`, value: `value ${i}` })),
      });
      await store.saveParsed('a', p);
      expect((await store.getMessage('a'))?.parsed).toEqual(p);
    });

    it('saves authentication verdicts, and clears them', async () => {
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
      await store.saveAuth('missing', auth);
      expect((await store.getMessage('a'))?.auth).toEqual(auth);
      expect(await store.hasMessage('missing')).toBe(false);
      // another store on the same data sees it
      const again = await open();
      expect((await again.getMessage('a'))?.auth).toEqual(auth);
      await store.saveAuth('a', null);
      expect((await again.getMessage('a'))?.auth).toBeNull();
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
      expect(await store.getDelivery('a:2')).toEqual({
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
          key: 'a:1',
          updatedAt: '2024-01-01T00:00:00.000Z',
        },
        {
          recipient: 'r1@example.com',
          route: 'support',
          action: 'handler',
          params: { token: 'x' },
          status: 'pending',
          attempts: 0,
          key: 'a:2',
          updatedAt: '2024-01-01T00:00:00.000Z',
        },
      ]);
      // The listing's summary shows no key or time.
      const [listed] = await store.listMessages();
      expect(listed?.deliveries.map((d) => Object.keys(d).includes('key'))).toEqual([false, false]);
    });

    it('replaces a delivery whole: fields left out of the update are gone', async () => {
      await store.recordReceived({ id: 'a', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 });
      await store.putDelivery(
        delivery({ key: 'a:1', messageId: 'a', status: 'failed', error: 'boom', target: 't' }),
      );
      await store.putDelivery(
        delivery({ key: 'a:1', messageId: 'a', status: 'delivered', attempts: 2, mailbox: undefined }),
      );
      const d = await store.getDelivery('a:1');
      expect(d).toEqual(
        delivery({ key: 'a:1', messageId: 'a', status: 'delivered', attempts: 2, mailbox: undefined }),
      );
      expect(d).not.toHaveProperty('error');
      expect(d).not.toHaveProperty('target');
      expect(d).not.toHaveProperty('mailbox');
      // another store on the same data finds it by its key
      expect(await (await open()).getDelivery('a:1')).toEqual(d);
    });

    it('moves a delivery whose key is given to another message', async () => {
      for (const id of ['a', 'b']) {
        await store.recordReceived({ id, receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 });
      }
      await store.putDelivery(delivery({ key: 'k', messageId: 'a' }));
      await store.putDelivery(delivery({ key: 'k', messageId: 'b', status: 'delivered' }));
      expect((await store.getMessage('a'))?.deliveries).toEqual([]);
      expect((await store.getMessage('b'))?.deliveries.map((d) => d.status)).toEqual(['delivered']);
      expect((await store.getDelivery('k'))?.messageId).toBe('b');
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

    it('holds a message in a mailbox once when it is put there concurrently', async () => {
      const entry = { mailbox: 'support', messageId: 'a', data: null, createdAt: '2024-01-01T00:00:00.000Z' };
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, n) => store.putMailboxEntry({ ...entry, data: { n } })),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const listed = await store.listMailboxEntries('support');
      expect(listed).toHaveLength(1);
      expect(listed[0]?.data).toEqual({ n: results.indexOf(true) });
    });

    it('lists mailbox entries oldest first, in the order they were put at the same time', async () => {
      const at = (s: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, s)).toISOString();
      await store.putMailboxEntry({ mailbox: 'support', messageId: 'z', data: null, createdAt: at(2) });
      await store.putMailboxEntry({ mailbox: 'support', messageId: 'y', data: null, createdAt: at(1) });
      await store.putMailboxEntry({ mailbox: 'support', messageId: 'x', data: null, createdAt: at(2) });
      await store.putMailboxEntry({
        mailbox: 'support',
        messageId: 'w',
        data: { deep: { list: [1, 'two', null] } },
        createdAt: at(3),
      });
      const listed = await store.listMailboxEntries('support');
      expect(listed.map((e) => e.messageId)).toEqual(['y', 'z', 'x', 'w']);
      expect(listed[3]?.data).toEqual({ deep: { list: [1, 'two', null] } });
    });

    it('lists newest first, filters by mailbox and limits', async () => {
      await store.recordReceived({ id: 'm1', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 });
      await store.recordReceived({ id: 'm3', receivedAt: '2024-01-02T00:00:00.000Z', envelope, size: 1 });
      await store.recordReceived({ id: 'm2', receivedAt: '2024-01-02T00:00:00.000Z', envelope, size: 1 });
      await store.putDelivery(delivery({ key: 'm2:x', messageId: 'm2' }));
      expect((await store.listMessages()).map((m) => m.id)).toEqual(['m3', 'm2', 'm1']);
      expect((await store.listMessages({ limit: 2 })).map((m) => m.id)).toEqual(['m3', 'm2']);
      expect(await store.listMessages({ limit: 0 })).toEqual([]);
      const listed = await store.listMessages();
      expect(listed[1]?.deliveries).toHaveLength(1);
      expect(listed[0]?.deliveries).toEqual([]);
      expect(listed[0]).not.toHaveProperty('parsed');

      const at = '2024-01-03T00:00:00.000Z';
      await store.putMailboxEntry({ mailbox: 'support', messageId: 'm1', data: null, createdAt: at });
      await store.putMailboxEntry({ mailbox: 'support', messageId: 'm2', data: null, createdAt: at });
      await store.putMailboxEntry({ mailbox: 'sales', messageId: 'm3', data: null, createdAt: at });
      await store.putMailboxEntry({ mailbox: 'support', messageId: 'unrecorded', data: null, createdAt: at });
      expect((await store.listMessages({ mailbox: 'support' })).map((m) => m.id)).toEqual(['m2', 'm1']);
      expect((await store.listMessages({ mailbox: 'support', limit: 1 })).map((m) => m.id)).toEqual(['m2']);
      expect((await store.listMessages({ mailbox: 'support' }))[0]?.deliveries).toHaveLength(1);
      expect(await store.listMessages({ mailbox: 'nobody' })).toEqual([]);
    });

    it('lists a large mailbox page by page, newest first, showing each message as it is now', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 130; i++) {
        const id = `m${String(i).padStart(3, '0')}`;
        ids.push(id);
        await store.recordReceived({
          id,
          receivedAt: new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString(),
          envelope,
          size: i,
        });
      }
      // put in the mailbox in another order than they arrived
      for (const id of [...ids].reverse()) {
        await store.putMailboxEntry({
          mailbox: 'support',
          messageId: id,
          data: null,
          createdAt: '2024-02-01T00:00:00.000Z',
        });
      }
      await store.setStatus('m129', 'processed');
      const newestFirst = [...ids].reverse();
      expect((await store.listMessages({ mailbox: 'support', limit: 120 })).map((m) => m.id)).toEqual(
        newestFirst.slice(0, 120),
      );
      const all = await store.listMessages({ mailbox: 'support', limit: 1000 });
      expect(all.map((m) => m.id)).toEqual(newestFirst);
      expect(all[0]?.status).toBe('processed');
      expect((await store.listMessages()).map((m) => m.id)).toEqual(newestFirst.slice(0, 100));
    });

    it('lists newest first across days, midnight and equal arrival times, at any limit', async () => {
      // 240 messages over ten days with gaps (a DynamoDB store spreads them over shards per day)
      const messages: Array<{ id: string; receivedAt: string }> = [];
      for (let i = 0; i < 240; i++) {
        const day = [1, 2, 3, 7, 8, 10][i % 6] as number;
        const ms = Date.UTC(2024, 0, day) + ((i * 7_919_993) % 86_400_000);
        messages.push({
          id: `m${String((i * 37) % 240).padStart(3, '0')}`,
          receivedAt: new Date(ms).toISOString(),
        });
      }
      messages.push({ id: 'late', receivedAt: '2024-01-03T23:59:59.999Z' });
      messages.push({ id: 'early', receivedAt: '2024-01-04T00:00:00.000Z' });
      messages.push({ id: 'tie-a', receivedAt: '2024-01-08T12:00:00.000Z' });
      messages.push({ id: 'tie-b', receivedAt: '2024-01-08T12:00:00.000Z' });
      for (const m of messages) await store.recordReceived({ ...m, envelope, size: 1 });
      const newestFirst = [...messages]
        .sort((a, b) =>
          a.receivedAt === b.receivedAt ? (a.id < b.id ? 1 : -1) : a.receivedAt < b.receivedAt ? 1 : -1,
        )
        .map((m) => m.id);
      for (const limit of [1, 9, 50, 100, 243, 1000]) {
        expect((await store.listMessages({ limit })).map((m) => m.id)).toEqual(newestFirst.slice(0, limit));
      }
      expect((await store.listMessages()).map((m) => m.id)).toEqual(newestFirst.slice(0, 100));
      expect(newestFirst.indexOf('early')).toBe(newestFirst.indexOf('late') - 1);
    });

    it('lists unfinished and failed messages, oldest first', async () => {
      for (const [id, at] of [
        ['a', '2024-01-02T00:00:00.000Z'],
        ['b', '2024-01-01T00:00:00.000Z'],
        ['c', '2024-01-01T00:00:00.000Z'],
        ['d', '2024-01-01T00:00:00.000Z'],
        ['e', '2024-01-03T00:00:00.000Z'],
      ] as const) {
        await store.recordReceived({ id, receivedAt: at, envelope, size: 1 });
      }
      await store.setStatus('b', 'processing');
      await store.setStatus('c', 'processed');
      await store.setStatus('d', 'failed');
      await store.setStatus('e', 'failed');
      await store.setStatus('missing', 'failed');
      expect(await store.listUnfinished()).toEqual(['b', 'a']);
      expect(await store.listFailed()).toEqual(['d', 'e']);
      expect(await store.listFailed({ receivedSince: '2024-01-02T12:00:00.000Z' })).toEqual(['e']);
      expect(await store.listFailed({ receivedSince: '2024-01-03T00:00:00.000Z' })).toEqual(['e']);
      expect(await store.hasMessage('missing')).toBe(false);
      // a replayed failure is unfinished again, then done
      await store.setStatus('d', 'processing');
      expect(await store.listUnfinished()).toEqual(['b', 'd', 'a']);
      expect(await store.listFailed()).toEqual(['e']);
      await store.setStatus('d', 'processed');
      expect(await store.listUnfinished()).toEqual(['b', 'a']);
      expect((await store.getMessage('d'))?.status).toBe('processed');
    });

    it('keeps trace entries in order with their time', async () => {
      let t = 0;
      const timed = await open({ now: () => new Date(Date.UTC(2024, 0, 1, 0, 0, t++)) });
      await timed.recordReceived({ id: 'a', receivedAt: '2024-01-01T00:00:00.000Z', envelope, size: 1 });
      await timed.addTrace('a', 'received', 'one');
      await timed.addTrace('a', 'parsed', 'two');
      await timed.addTrace('b', 'other', 'three');
      for (let i = 0; i < 20; i++) await timed.addTrace('a', 'step', `n${i}`);
      const trace = (await timed.getMessage('a'))?.trace ?? [];
      expect(trace.slice(0, 2)).toEqual([
        { at: '2024-01-01T00:00:00.000Z', step: 'received', detail: 'one' },
        { at: '2024-01-01T00:00:01.000Z', step: 'parsed', detail: 'two' },
      ]);
      expect(trace.slice(2).map((e) => e.detail)).toEqual(Array.from({ length: 20 }, (_, i) => `n${i}`));
    });

    describe('outbox', () => {
      it('keeps an entry once, by id, and returns its bytes', async () => {
        expect(await store.putOutboxEntry(outboxEntry())).toBe(true);
        expect(await store.putOutboxEntry(outboxEntry({ subject: 'changed', raw: Buffer.from('x') }))).toBe(
          false,
        );
        const got = await store.getOutboxEntry(outboxEntry().id);
        expect(got).toEqual(outboxEntry());
        expect(Buffer.isBuffer(got?.raw)).toBe(true);
        expect(await store.getOutboxEntry('nope')).toBeNull();
      });

      it('keeps a large sent message whole, and an empty one', async () => {
        const raw = Buffer.alloc(1_000_003);
        for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919) % 251;
        expect(await store.putOutboxEntry(outboxEntry({ id: 'big', raw }))).toBe(true);
        expect((await store.getOutboxEntry('big'))?.raw.equals(raw)).toBe(true);
        expect((await store.listOutbox())[0]?.size).toBe(raw.length);
        expect(await store.putOutboxEntry(outboxEntry({ id: 'empty', raw: Buffer.alloc(0) }))).toBe(true);
        expect((await store.getOutboxEntry('empty'))?.raw).toEqual(Buffer.alloc(0));
      });

      it('keeps one of two entries with the same id written concurrently, whole', async () => {
        const one = outboxEntry({ subject: 'one', raw: Buffer.alloc(700_000, 1) });
        const two = outboxEntry({ subject: 'two', raw: Buffer.alloc(700_000, 2) });
        const [a, b] = await Promise.all([store.putOutboxEntry(one), store.putOutboxEntry(two)]);
        expect([a, b].filter(Boolean)).toHaveLength(1);
        const winner = a ? one : two;
        const got = await store.getOutboxEntry(one.id);
        // (Buffer.equals: a deep comparison of large buffers is slow)
        expect(got?.raw.equals(winner.raw)).toBe(true);
        expect({ ...got, raw: null }).toEqual({ ...winner, raw: null });
      });

      it('lists newest first without bytes, filters by original and limits', async () => {
        await store.putOutboxEntry(outboxEntry({ id: 'a1', createdAt: '2024-05-01T12:00:00.000Z' }));
        await store.putOutboxEntry(
          outboxEntry({ id: 'a2', createdAt: '2024-05-01T13:00:00.000Z', inReplyTo: 'msg2' }),
        );
        await store.putOutboxEntry(
          outboxEntry({
            id: 'a3',
            createdAt: '2024-05-01T14:00:00.000Z',
            inReplyTo: null,
            transport: 'smtp',
            subject: null,
          }),
        );
        const all = await store.listOutbox();
        expect(all.map((e) => e.id)).toEqual(['a3', 'a2', 'a1']);
        expect(all[2]).toEqual({
          id: 'a1',
          messageId: outboxEntry().messageId,
          inReplyTo: 'msg1',
          from: 'support@example.com',
          to: ['ada@example.net'],
          subject: 'Re: Hello',
          createdAt: '2024-05-01T12:00:00.000Z',
          transport: 'outbox',
          size: outboxEntry().raw.length,
        });
        expect(all[0]).toMatchObject({ inReplyTo: null, subject: null, transport: 'smtp' });
        expect((await store.getOutboxEntry('a3'))?.inReplyTo).toBeNull();
        expect((await store.listOutbox({ inReplyTo: 'msg2' })).map((e) => e.id)).toEqual(['a2']);
        expect(await store.listOutbox({ inReplyTo: 'nobody' })).toEqual([]);
        expect((await store.listOutbox({ limit: 1 })).map((e) => e.id)).toEqual(['a3']);
        expect(await store.listOutbox({ limit: 0 })).toEqual([]);
      });
    });

    describe('threads', () => {
      let n = 0;

      /** Records and parses one message the way the pipeline does; returns the thread it was filed in. */
      const receive = async (id: string, raw: Buffer): Promise<string> => {
        n += 1;
        const receivedAt = new Date(Date.UTC(2024, 4, 1, 12, n)).toISOString();
        await store.recordReceived({
          id,
          receivedAt,
          envelope: { mailFrom: 'sender@example.net', rcptTo: ['support@example.com'] },
          size: raw.length,
        });
        const parsed = await parseMessage(raw);
        const { threadId } = await store.saveParsed(id, parsed);
        return threadId;
      };
      const threadOf = async (threadId: string) => (await store.listThread(threadId)).map((m) => m.id);

      beforeEach(() => {
        n = 0;
      });

      it('keeps a Gmail conversation (References chain) in one thread, oldest first', async () => {
        const first = eml(
          [
            'MIME-Version: 1.0',
            'Date: Wed, 1 May 2024 12:00:00 +0200',
            'Message-ID: <CAJ2kQ7vN3x0Yk+f8T1rZpL4mWq-d9Xe5bGQ@mail.gmail.com>',
            'Subject: Printer on fire',
            'From: Ada Lovelace <ada.lovelace@gmail.com>',
            'To: support@example.com',
            'Content-Type: multipart/alternative; boundary="000000000000a1b2c3d4e5f60718"',
          ],
          [
            '--000000000000a1b2c3d4e5f60718',
            'Content-Type: text/plain; charset="UTF-8"',
            '',
            'The printer on floor 3 is on fire.',
            '',
            '--000000000000a1b2c3d4e5f60718',
            'Content-Type: text/html; charset="UTF-8"',
            '',
            '<div dir="ltr">The printer on floor 3 is on fire.</div>',
            '',
            '--000000000000a1b2c3d4e5f60718--',
          ],
        );
        // Ada answers our reply (which this store never received): the chain still starts at her first message.
        const second = eml(
          [
            'MIME-Version: 1.0',
            'References: <CAJ2kQ7vN3x0Yk+f8T1rZpL4mWq-d9Xe5bGQ@mail.gmail.com>',
            ' <0f3a9c@example.com>',
            'In-Reply-To: <0f3a9c@example.com>',
            'Date: Wed, 1 May 2024 13:10:00 +0200',
            'Message-ID: <CAJ2kQ7sPq0VvW3mV8bQ1Xk2=Ln5hYt7u@mail.gmail.com>',
            'Subject: Re: Printer on fire',
            'From: Ada Lovelace <ada.lovelace@gmail.com>',
            'To: Support <support@example.com>',
            'Cc: Bob <bob@example.org>',
            'Content-Type: text/plain; charset="UTF-8"',
          ],
          [
            'It is out now, thanks.',
            '',
            'On Wed, May 1, 2024 at 12:30 PM Support <support@example.com> wrote:',
            '> Please leave the building.',
          ],
        );
        const third = eml(
          [
            'MIME-Version: 1.0',
            'References: <CAJ2kQ7vN3x0Yk+f8T1rZpL4mWq-d9Xe5bGQ@mail.gmail.com> <0f3a9c@example.com>',
            ' <CAJ2kQ7sPq0VvW3mV8bQ1Xk2=Ln5hYt7u@mail.gmail.com>',
            'In-Reply-To: <CAJ2kQ7sPq0VvW3mV8bQ1Xk2=Ln5hYt7u@mail.gmail.com>',
            'Date: Wed, 1 May 2024 14:00:00 +0200',
            'Message-ID: <CAM9xT4bQ8hN2Lr6Vd0u=Kp1sWz3eYc@mail.gmail.com>',
            'Subject: Re: Printer on fire',
            'From: Bob <bob@example.org>',
            'To: Ada Lovelace <ada.lovelace@gmail.com>, support@example.com',
            'Content-Type: text/plain; charset="UTF-8"',
          ],
          ['Who ordered that printer anyway?'],
        );
        const t1 = await receive('g1', first);
        expect(await receive('g2', second)).toBe(t1);
        expect(await receive('g3', third)).toBe(t1);
        expect(t1).toBe((await parseMessage(first)).thread.id);
        expect(await threadOf(t1)).toEqual(['g1', 'g2', 'g3']);
        const summaries = await store.listThread(t1);
        expect(summaries.map((s) => s.subject)).toEqual([
          'Printer on fire',
          'Re: Printer on fire',
          'Re: Printer on fire',
        ]);
        expect(summaries.every((s) => s.threadId === t1)).toBe(true);
        expect((await store.getMessage('g3'))?.parsed?.thread.id).toBe(t1);
      });

      it('keeps an Outlook conversation (Thread-Index, In-Reply-To only, RE:/AW:) in one thread', async () => {
        const first = eml(
          [
            'From: Bob Builder <bob@contoso.com>',
            'To: "support@example.com" <support@example.com>',
            'Subject: Quote request',
            'Thread-Topic: Quote request',
            `Thread-Index: ${threadIndex(outlookRoot, 0)}`,
            'Date: Wed, 1 May 2024 10:00:00 +0000',
            'Message-ID: <DM6PR11MB4657A1B2C3D4E5F6A7B8C9D0A1B2C3D4@DM6PR11MB4657.namprd11.prod.outlook.com>',
            'Accept-Language: en-US',
            'Content-Language: en-US',
            'X-MS-Has-Attach:',
            'X-MS-TNEF-Correlator:',
            'Content-Type: text/plain; charset="us-ascii"',
            'Content-Transfer-Encoding: quoted-printable',
            'MIME-Version: 1.0',
          ],
          ['Could you send a quote for 40 units?'],
        );
        // Bob answers our reply, which Exchange names as the only reference; the Thread-Index still matches.
        const second = eml(
          [
            'From: Bob Builder <bob@contoso.com>',
            'To: Support <support@example.com>',
            'Subject: RE: Quote request',
            'Thread-Topic: Quote request',
            `Thread-Index: ${threadIndex(outlookRoot, 2)}`,
            'Date: Thu, 2 May 2024 09:00:00 +0000',
            'Message-ID: <DM6PR11MB4657B7C8D9E0F1A2B3C4D5E6F7A8B9C0@DM6PR11MB4657.namprd11.prod.outlook.com>',
            'References: <7d41c2aa@example.com>',
            'In-Reply-To: <7d41c2aa@example.com>',
            'Content-Type: text/plain; charset="us-ascii"',
            'MIME-Version: 1.0',
          ],
          [
            'Thanks, 40 units it is.',
            '',
            '-----Original Message-----',
            'From: Support <support@example.com>',
            'Sent: Wednesday, May 1, 2024 11:00 AM',
          ],
        );
        // A German colleague answers Bob: In-Reply-To only, no References, "AW:".
        const third = eml(
          [
            'From: =?iso-8859-1?Q?J=FCrgen_M=FCller?= <juergen@contoso.com>',
            'To: Bob Builder <bob@contoso.com>',
            'CC: support@example.com',
            'Subject: AW: Quote request',
            `Thread-Index: ${threadIndex(outlookRoot, 3)}`,
            'Date: Thu, 2 May 2024 10:00:00 +0000',
            'Message-ID: <AM0PR07MB6113C1D2E3F4A5B6C7D8E9F0A1B2C3D4@AM0PR07MB6113.eurprd07.prod.outlook.com>',
            'In-Reply-To: <DM6PR11MB4657B7C8D9E0F1A2B3C4D5E6F7A8B9C0@DM6PR11MB4657.namprd11.prod.outlook.com>',
            'Content-Type: text/plain; charset="iso-8859-1"',
            'Content-Transfer-Encoding: quoted-printable',
            'MIME-Version: 1.0',
          ],
          ['Bitte auch 10 f=FCr uns.'],
        );
        const t1 = await receive('o1', first);
        const secondParsed = await parseMessage(second);
        expect(secondParsed.thread.id).not.toBe(t1); // the parser alone cannot see it: the store can
        expect(await receive('o2', second)).toBe(t1);
        expect(await receive('o3', third)).toBe(t1);
        expect(await threadOf(t1)).toEqual(['o1', 'o2', 'o3']);
      });

      it('keeps an Apple Mail conversation in one thread', async () => {
        const first = eml(
          [
            'From: Grace Hopper <grace.hopper@icloud.com>',
            'Content-Type: text/plain; charset=us-ascii',
            'Content-Transfer-Encoding: 7bit',
            'Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.500.171.1.1\\))',
            'Subject: Invoice 42',
            'Message-Id: <9F1B2C3D-4E5F-4A6B-8C7D-0E1F2A3B4C5D@icloud.com>',
            'Date: Wed, 1 May 2024 08:00:00 -0700',
            'To: billing@example.com',
            'X-Mailer: Apple Mail (2.3774.500.171.1.1)',
          ],
          ['Invoice 42 is charged twice.'],
        );
        const second = eml(
          [
            'From: Grace Hopper <grace.hopper@icloud.com>',
            'Content-Type: text/plain; charset=utf-8',
            'Content-Transfer-Encoding: quoted-printable',
            'Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.500.171.1.1\\))',
            'Subject: Re: Invoice 42',
            'Message-Id: <2A7C9E1F-3B5D-4F60-A1C2-D3E4F5A6B7C8@icloud.com>',
            'Date: Wed, 1 May 2024 09:30:00 -0700',
            'References: <9F1B2C3D-4E5F-4A6B-8C7D-0E1F2A3B4C5D@icloud.com>',
            ' <5e0c11b2@example.com>',
            'In-Reply-To: <5e0c11b2@example.com>',
            'To: Billing <billing@example.com>',
            'X-Mailer: Apple Mail (2.3774.500.171.1.1)',
          ],
          ['Thanks!', '', '> On 1. May 2024, at 09:00, Billing <billing@example.com> wrote:', '> Refunded.'],
        );
        const t1 = await receive('a1', first);
        expect(await receive('a2', second)).toBe(t1);
        expect(await threadOf(t1)).toEqual(['a1', 'a2']);
      });

      it('files a reply without References or In-Reply-To by subject and participants', async () => {
        const mail = (id: string, from: string, subject: string) =>
          eml(
            [
              `From: ${from}`,
              'To: support@example.com',
              `Subject: ${subject}`,
              `Message-ID: <${id}@mail.example.org>`,
              'Date: Wed, 1 May 2024 08:00:00 +0000',
            ],
            ['text'],
          );
        const t1 = await receive('s1', mail('s1', 'Dan <dan@example.org>', 'Printer jammed'));
        // a client that drops the references (webmail, some phones): same subject, same people
        expect(await receive('s2', mail('s2', 'dan@example.org', 'Re: Printer jammed'))).toBe(t1);
        expect(await receive('s3', mail('s3', 'Dan <DAN@example.org>', 'RE:  printer   JAMMED'))).toBe(t1);
        // other participants: another conversation
        expect(await receive('s4', mail('s4', 'eve@example.net', 'Re: Printer jammed'))).not.toBe(t1);
        // no reply prefix: a new message that happens to share the subject
        expect(await receive('s5', mail('s5', 'dan@example.org', 'Printer jammed'))).not.toBe(t1);
        expect(await threadOf(t1)).toEqual(['s1', 's2', 's3']);
      });

      it('files a reply by subject in the newest conversation of those participants', async () => {
        const mail = (id: string, subject: string) =>
          eml(
            [
              'From: dan@example.org',
              'To: support@example.com',
              `Subject: ${subject}`,
              `Message-ID: <${id}@example.org>`,
            ],
            ['text'],
          );
        const older = await receive('o1', mail('o1', 'Printer jammed'));
        const newer = await receive('o2', mail('o2', 'Printer jammed')); // a new message, same subject
        expect(newer).not.toBe(older);
        expect(await receive('o3', mail('o3', 'Re: Printer jammed'))).toBe(newer);
        expect(await threadOf(newer)).toEqual(['o2', 'o3']);
      });

      it('never files a reply that names a message by subject, even when that message is not stored', async () => {
        const t1 = await receive(
          'u1',
          eml(['From: dan@example.org', 'To: support@example.com', 'Subject: Toner'], ['text']),
        );
        const reply = eml(
          [
            'From: dan@example.org',
            'To: support@example.com',
            'Subject: Re: Toner',
            'In-Reply-To: <elsewhere@example.org>',
          ],
          ['text'],
        );
        expect(await receive('u2', reply)).not.toBe(t1);
        expect(await threadOf(t1)).toEqual(['u1']);
      });

      it('moves no thread for the parse of a message without a record', async () => {
        const mail = (headers: string[]) =>
          eml(['From: a@example.org', 'To: support@example.com', 'Subject: Root', ...headers], ['x']);
        const root = await receive('g1', mail(['Message-ID: <g-root@example.org>']));
        // a reply whose parent is not here yet: its thread is named after that parent
        const early = await receive(
          'g2',
          mail(['Message-ID: <g-early@example.org>', 'In-Reply-To: <g-late@example.org>']),
        );
        const late = await parseMessage(
          mail(['Message-ID: <g-late@example.org>', 'In-Reply-To: <g-root@example.org>']),
        );
        expect((await store.saveParsed('not-recorded', late)).threadId).toBe(root);
        expect(await threadOf(early)).toEqual(['g2']);
        expect(await threadOf(root)).toEqual(['g1']);
      });

      it('a message without Message-ID or references falls back to subject and participants', async () => {
        const mail = (subject: string) =>
          eml(['From: dan@example.org', 'To: support@example.com', `Subject: ${subject}`], ['text']);
        const t1 = await receive('n1', mail('Toner'));
        expect(await receive('n2', mail('Re: Toner'))).toBe(t1);
        expect(await threadOf(t1)).toEqual(['n1', 'n2']);
      });

      it('moves replies that arrived before their parent into the parent thread', async () => {
        const root = eml(
          [
            'From: a@example.org',
            'To: support@example.com',
            'Subject: Root',
            'Message-ID: <root@example.org>',
          ],
          ['root'],
        );
        const middle = eml(
          [
            'From: b@example.org',
            'To: support@example.com',
            'Subject: Re: Root',
            'Message-ID: <middle@example.org>',
            'In-Reply-To: <unknown-parent@example.org>',
            'References: <root@example.org> <unknown-parent@example.org>',
          ],
          ['middle'],
        );
        const early = eml(
          [
            'From: c@example.org',
            'To: support@example.com',
            'Subject: Re: Root',
            'Message-ID: <early@example.org>',
            'In-Reply-To: <late@example.org>',
          ],
          ['early'],
        );
        const late = eml(
          [
            'From: b@example.org',
            'To: support@example.com',
            'Subject: Re: Root',
            'Message-ID: <late@example.org>',
            'In-Reply-To: <middle@example.org>',
          ],
          ['late'],
        );
        const t1 = await receive('r1', root);
        expect(await receive('r2', middle)).toBe(t1);
        const early3 = await receive('r3', early); // its parent is not here yet
        expect(early3).not.toBe(t1);
        expect(await receive('r4', late)).toBe(t1);
        expect(await threadOf(t1)).toEqual(['r1', 'r2', 'r3', 'r4']);
        expect(await store.listThread(early3)).toEqual([]);
        expect((await store.getMessage('r3'))?.parsed?.thread.id).toBe(t1);
      });

      it('keeps unrelated messages apart and limits a listing', async () => {
        const mail = (id: string, subject: string) =>
          eml(
            [
              'From: x@example.org',
              'To: support@example.com',
              `Subject: ${subject}`,
              `Message-ID: <${id}@example.org>`,
            ],
            ['x'],
          );
        const a = await receive('u1', mail('u1', 'One'));
        const b = await receive('u2', mail('u2', 'Two'));
        expect(a).not.toBe(b);
        expect(await threadOf(a)).toEqual(['u1']);
        expect(await store.listThread('000000000000000000000000')).toEqual([]);
        for (let i = 0; i < 3; i++) {
          await receive(
            `l${i}`,
            eml(
              [
                'From: x@example.org',
                'Subject: Re: One',
                `Message-ID: <l${i}@example.org>`,
                'References: <u1@example.org>',
              ],
              ['x'],
            ),
          );
        }
        expect((await store.listThread(a, { limit: 2 })).map((m) => m.id)).toEqual(['u1', 'l0']);
      });

      it('ignores a malformed Thread-Index', async () => {
        const mail = (id: string, index: string) =>
          eml(
            [
              'From: x@example.org',
              'Subject: Hi',
              `Message-ID: <${id}@example.org>`,
              `Thread-Index: ${index}`,
            ],
            ['x'],
          );
        const a = await receive('x1', mail('x1', 'AQHa'));
        expect(await receive('x2', mail('x2', 'AQHa'))).not.toBe(a);
        const c = await receive('x3', mail('x3', '!!not base64!!'));
        expect(await receive('x4', mail('x4', '!!not base64!!'))).not.toBe(c);
      });

      it('files a reply by a very long (hostile) Message-ID it references', async () => {
        // longer than a key may hold as it is (the parser keeps Message-IDs up to about 1000 characters)
        const longId = `<${'x'.repeat(900)}@example.org>`;
        const t1 = await receive(
          'h1',
          eml(['From: a@example.org', 'Subject: Long', `Message-ID: ${longId}`], ['first']),
        );
        const t2 = await receive(
          'h2',
          eml(
            [
              'From: b@example.org',
              'Subject: Re: Long',
              'Message-ID: <h2@example.org>',
              `In-Reply-To: ${longId}`,
            ],
            ['reply'],
          ),
        );
        expect(t2).toBe(t1);
        expect(await threadOf(t1)).toEqual(['h1', 'h2']);
      });

      it('re-saving a parse keeps the message in its thread once', async () => {
        const raw = eml(['From: a@example.org', 'Subject: Again', 'Message-ID: <again@example.org>'], ['x']);
        const t1 = await receive('g1', raw);
        expect(await store.saveParsed('g1', await parseMessage(raw))).toEqual({ threadId: t1 });
        expect(await threadOf(t1)).toEqual(['g1']);
      });
    });
  });
}
