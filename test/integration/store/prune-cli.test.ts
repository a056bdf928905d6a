import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalAttachmentStore } from '../../../lib/store/local-attachment-store.ts';
import { LocalRawStore } from '../../../lib/store/local-raw-store.ts';
import { SqliteMessageStore } from '../../../lib/store/sqlite-message-store.ts';
import { mailroomBin } from '../../support/mailroom-process.ts';
import { parsedFixture } from '../../support/message-store-contract.ts';

const DAY = 86_400_000;

function mailroom(args: string[], cwd: string) {
  const env = { ...process.env };
  delete env.MAILROOM_CONFIG;
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [mailroomBin, ...args], { cwd, env }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Everything under the data folder, as relative paths (what "nothing changed" compares). */
async function files(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).filter((n) => !/mailroom\.db/.test(n)).sort();
}

describe('mailroom prune', () => {
  const project = mkdtempSync(join(tmpdir(), 'mailroom-prune-'));
  const data = join(project, 'data');
  const sha = createHash('sha256').update('old attachment').digest('hex');

  beforeAll(async () => {
    writeFileSync(
      join(project, 'mailroom.config.ts'),
      `export default { domains: ['example.com'], routes: [], dataDir: 'data', retention: { maxAgeDays: 30 } };\n`,
    );
    mkdirSync(data);
    const store = new SqliteMessageStore(join(data, 'mailroom.db'));
    const raw = new LocalRawStore(data, { journalMaxMessageBytes: 0 });
    const attachments = new LocalAttachmentStore(data);
    const upload = attachments.begin();
    await upload.write(Buffer.from('old attachment'));
    await upload.commit(sha);
    const longAgo = new Date(Date.now() - 60 * DAY);
    await utimes(attachments.pathOf(sha), longAgo, longAgo);
    const envelope = { mailFrom: 'a@example.net', rcptTo: ['support@example.com'] };
    for (const [id, age, status] of [
      ['old', 60 * DAY, 'processed'],
      ['busy', 90 * DAY, 'processing'],
      ['recent', DAY, 'processed'],
    ] as const) {
      await raw.put(id, Buffer.from(`Subject: ${id}\r\n\r\nbody\r\n`), { envelope });
      await store.recordReceived({
        id,
        receivedAt: new Date(Date.now() - age).toISOString(),
        envelope,
        size: 20,
      });
      const attachment = { filename: 'a', contentType: 'text/plain', size: 14, sha256: sha, contentId: null };
      await store.saveParsed(
        id,
        parsedFixture({
          messageId: `<${id}@x>`,
          thread: { id: `t-${id}` },
          attachments:
            id === 'old'
              ? [{ ...attachment, disposition: 'attachment', url: null, stored: true, related: false }]
              : [],
        }),
      );
      await store.setStatus(id, status);
    }
    await store.close();
    await raw.close();
  });
  afterAll(async () => {
    await rm(project, { recursive: true, force: true });
  });

  it('--dry-run counts what the retention would delete and changes nothing', {
    timeout: 120_000,
  }, async () => {
    const before = await files(data);
    const r = await mailroom(['prune', '--dry-run'], project);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      'messages: 1 would be deleted, 20 bytes of raw mail\nattachments: 1 would be deleted, 14 bytes\n',
    );
    expect(r.code).toBe(0);
    expect(await files(data)).toEqual(before);
    const store = new SqliteMessageStore(join(data, 'mailroom.db'));
    expect((await store.listMessages()).map((m) => m.id)).toEqual(['recent', 'old', 'busy']);
    await store.close();
  });

  it('deletes with the config retention, then --keep replaces it; a message being processed stays', {
    timeout: 120_000,
  }, async () => {
    const r = await mailroom(['prune'], project);
    expect(r.stdout).toMatch(
      /^messages: 1 deleted, \d+ bytes of raw mail\nattachments: 1 deleted, 14 bytes\n$/,
    );
    expect(r.code).toBe(0);
    expect((await readdir(join(data, 'raw'))).sort()).toEqual([
      'busy.eml',
      'busy.envelope.json',
      'recent.eml',
      'recent.envelope.json',
    ]);
    expect((await files(join(data, 'attachments'))).filter((n) => n.includes(sha))).toEqual([]);
    const again = await mailroom(['prune', '--keep', '0'], project);
    expect(again.stdout).toMatch(/^messages: 1 deleted/);
    const store = new SqliteMessageStore(join(data, 'mailroom.db'));
    expect((await store.listMessages()).map((m) => m.id)).toEqual(['busy']);
    await store.close();
  });

  it('names a bad option value', { timeout: 120_000 }, async () => {
    const r = await mailroom(['prune', '--older-than', '30'], project);
    expect(r.stderr).toMatch(
      /^mailroom prune: --older-than must be a duration like 30d, 12h or 90m, got '30'\n/,
    );
    expect(r.code).toBe(2);
  });
});
