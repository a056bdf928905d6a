import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Envelope } from '../../../lib/kernel/index.ts';
import { newMessageId } from '../../../lib/store/message-id.ts';
import { corporaDir } from '../../support/corpora.ts';
import { expectCode, RawSmtpClient, startTestIngress, type TestIngress, withPrefix } from './helpers.ts';

/*
 * SMTP smuggling (CVE-2023-51764/5/6), over real sockets, for every sequence in
 * ../shared/corpora/smtp-protocol/derived/smtp-smuggling-cases.json (hannob/smtpsmug, The-Login
 * SMTP-Smuggling-Tools, go-smtp, aiosmtpd). A safe server lets only <CR><LF>.<CR><LF> end DATA. Ours is
 * strict: the fake end of data never ends the message, nothing after it runs as a command, and the whole
 * message is refused (550 5.5.2) once its real end arrives, so no message — first or smuggled — is stored.
 */

interface SmugglingCorpus {
  end_of_data_sequences: Record<string, Record<string, string> | string[]>;
  'go-smtp TestServer_smtpSmuggling (server_test.go) exact expectations': Array<{
    name: string;
    sent_after_DATA: string[];
    expected_message_body: string;
  }>;
  'aiosmtpd test_smtpsmuggling.py': string;
}

const file = (() => {
  const dir = corporaDir();
  const path = dir && join(dir, 'smtp-protocol/derived/smtp-smuggling-cases.json');
  if (path && existsSync(path)) return path;
  if (dir) console.warn(`[mailroom tests] ${path} not found; SMTP smuggling corpus tests are skipped`);
  return null;
})();
const corpus: SmugglingCorpus | null = file ? JSON.parse(readFileSync(file, 'utf8')) : null;

/** Every fake end-of-data sequence, named by its source and key (or index). */
const sequences: Array<{ name: string; sequence: string }> = [];
let pipeliningCase: string | undefined;
for (const [source, list] of Object.entries(corpus?.end_of_data_sequences ?? {})) {
  for (const [key, sequence] of Object.entries(list)) {
    if (sequence.startsWith('(not a sequence)')) pipeliningCase = `${source}: ${key}`;
    else sequences.push({ name: `${source} [${key}] ${JSON.stringify(sequence)}`, sequence });
  }
}
const goSmtpCases = corpus?.['go-smtp TestServer_smtpSmuggling (server_test.go) exact expectations'] ?? [];

const FROM = 'attacker@elsewhere.test';
const SMUGGLED_FROM = 'smuggled@elsewhere.test';
const HEADERS = `From: ${FROM}\r\nTo: support@example.com\r\nSubject: Hello World\r\nMessage-ID: <t@elsewhere.test>\r\n\r\n`;
const SMUGGLED =
  `MAIL FROM:<${SMUGGLED_FROM}>\r\nRCPT TO:<support@example.com>\r\nDATA\r\n` +
  `From: Admin <admin@example.com>\r\nTo: support@example.com\r\nSubject: SMUGGLED\r\n\r\nsmuggled\r\n.\r\n`;
/** How long "no reply" is waited for. */
const QUIET_MS = 150;

let running: TestIngress | undefined;
let acceptCalls: Envelope[] = [];
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** An ingress whose accept() records every call it gets, then stores like the real one. */
async function start(): Promise<TestIngress> {
  acceptCalls = [];
  running = await startTestIngress({
    async accept(input, store) {
      acceptCalls.push(input.envelope);
      const id = newMessageId();
      await store.put(id, withPrefix(input));
      return { id };
    },
  });
  return running;
}

async function openData(t: TestIngress): Promise<RawSmtpClient> {
  const { client } = await RawSmtpClient.open(t.port, 'elsewhere.test');
  await expectCode(client.command(`MAIL FROM:<${FROM}>`), 250);
  await expectCode(client.command('RCPT TO:<support@example.com>'), 250);
  await expectCode(client.command('DATA'), 354);
  return client;
}

/** Nothing stored, and the smuggled transaction never reached accept(). */
async function expectNothingStored(t: TestIngress): Promise<void> {
  expect(await t.store.list()).toEqual([]);
  expect(await t.files('raw')).toEqual([]);
  expect(await t.files('tmp')).toEqual([]);
  expect(acceptCalls.length).toBeLessThanOrEqual(1);
  expect(acceptCalls.map((e) => e.mailFrom)).not.toContain(SMUGGLED_FROM);
}

describe.skipIf(!corpus)('SMTP smuggling corpus: fake end-of-data sequences', () => {
  it('covers every sequence of the corpus', () => {
    expect(sequences.length).toBe(26);
    expect(pipeliningCase).toBeDefined();
    expect(goSmtpCases).toHaveLength(2);
  });

  describe.each(sequences)('$name', ({ sequence }) => {
    it('does not end the message; the real end refuses it with 550 5.5.2 and stores nothing', async () => {
      const t = await start();
      const client = await openData(t);
      client.write(`${HEADERS}This is a test mail with a ${JSON.stringify(sequence)} ending.\r\n${sequence}`);
      // Still inside DATA: no reply, connection open.
      expect(await client.replyWithin(QUIET_MS)).toBeNull();
      expect(client.ended).toBe(false);
      client.write('This is after the bad ending.\r\n.\r\n');
      const reply = await client.reply();
      expect(reply.text).toMatch(/^550 5\.5\.2 /);
      // The session is still in step: one reply for the one message, then QUIT works.
      expect((await client.command('QUIT')).code).toBe(221);
      await expectNothingStored(t);
    });

    it('runs none of a smuggled second transaction after it', async () => {
      const t = await start();
      const client = await openData(t);
      client.write(`${HEADERS}Carrier message.\r\n${sequence}${SMUGGLED}`);
      const reply = await client.reply();
      // Exactly one reply, a refusal: not 250 for the first message, nothing for MAIL/RCPT/DATA.
      expect(reply.text).toMatch(/^550 5\.5\.2 /);
      expect(await client.replyWithin(QUIET_MS)).toBeNull();
      expect((await client.command('NOOP')).code).toBe(250);
      client.close();
      await expectNothingStored(t);
    });
  });
});

describe.skipIf(!corpus)('SMTP smuggling corpus: pipelining after a proper end of data', () => {
  it(`${pipeliningCase}: refuses the first message (554 5.5.0) and runs none of the second (421)`, async () => {
    const t = await start();
    const client = await openData(t);
    // smtpsmug's pipelining test: mail 2 sent right behind mail 1's <CR><LF>.<CR><LF>, in the same packet.
    client.write(
      `${HEADERS}This is mail 1/2 to test pipelining\r\n.\r\n` +
        `MAIL FROM:<${SMUGGLED_FROM}>\r\nRCPT TO:<support@example.com>\r\nDATA\r\n` +
        `${HEADERS.replace('Hello World', 'Hello World 2')}This is mail 2/2 to test pipelining\r\n.\r\n`,
    );
    expect((await client.reply()).text).toMatch(/^554 5\.5\.0 /);
    expect((await client.reply()).text).toMatch(/^421 4\.5\.0 /);
    await client.closed;
    await expectNothingStored(t);
  });
});

describe.skipIf(!corpus)('SMTP smuggling corpus: go-smtp TestServer_smtpSmuggling', () => {
  describe.each(goSmtpCases)('$name', ({ sent_after_DATA: pieces }) => {
    it('does not end the message early; refuses it (550 5.5.2) at the real end, stores nothing', async () => {
      const t = await start();
      const client = await openData(t);
      for (const piece of pieces.slice(0, -1)) {
        client.write(piece);
        await sleep(20);
      }
      expect(await client.replyWithin(QUIET_MS)).toBeNull();
      client.write(pieces.at(-1)!);
      expect((await client.reply()).text).toMatch(/^550 5\.5\.2 /);
      expect(await client.replyWithin(QUIET_MS)).toBeNull();
      client.close();
      await expectNothingStored(t);
    });
  });
});

describe.skipIf(!corpus)('SMTP smuggling corpus: aiosmtpd test_smtpsmuggling', () => {
  it('"Testing\\n.\\r\\nNO SMUGGLING\\r\\n.\\r\\n": one message, refused as a whole, nothing stored', async () => {
    expect(corpus!['aiosmtpd test_smtpsmuggling.py']).toContain('NO SMUGGLING');
    const t = await start();
    const client = await openData(t);
    client.write(`${HEADERS}Testing\n.\r\nNO SMUGGLING\r\n.\r\n`);
    expect((await client.reply()).text).toMatch(/^550 5\.5\.2 /);
    expect(await client.replyWithin(QUIET_MS)).toBeNull();
    client.close();
    await expectNothingStored(t);
  });
});
