import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  type AttachmentSink,
  type AttachmentSinkUpload,
  extractAttachment,
  parseMessage,
} from '../../../lib/message/index.ts';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const pdf = randomBytes(300_000);
const png = randomBytes(5000);

function base64Lines(bytes: Buffer): string[] {
  return bytes.toString('base64').match(/.{1,76}/g) ?? [];
}

const raw = Buffer.from(
  [
    'From: a@example.net',
    'To: b@example.com',
    'Subject: files',
    'Content-Type: multipart/mixed; boundary="mix"',
    '',
    '--mix',
    'Content-Type: text/html',
    '',
    '<p>Logo: <img src="cid:logo@example.net"></p>',
    '--mix',
    'Content-Type: application/pdf; name="a.pdf"',
    'Content-Disposition: attachment; filename="a.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    ...base64Lines(pdf),
    '--mix',
    'Content-Type: image/png',
    'Content-ID: <LOGO@example.net>',
    'Content-Disposition: inline',
    'Content-Transfer-Encoding: base64',
    '',
    ...base64Lines(png),
    '--mix',
    'Content-Type: image/gif',
    'Content-ID: <unused@example.net>',
    'Content-Transfer-Encoding: base64',
    '',
    'R0lGODlh',
    '--mix--',
    '',
  ].join('\r\n'),
);

/** A sink that keeps what it is given, and can be told to fail. */
function recordingSink(failWrites = false) {
  const kept = new Map<string, Buffer>();
  const chunkSizes: number[] = [];
  const sink: AttachmentSink = {
    begin(): AttachmentSinkUpload {
      const chunks: Buffer[] = [];
      return {
        async write(chunk) {
          if (failWrites) throw new Error('disk full');
          chunkSizes.push(chunk.length);
          chunks.push(chunk);
        },
        async commit(hash) {
          kept.set(hash, Buffer.concat(chunks));
          return { created: true, size: Buffer.concat(chunks).length };
        },
        async abort() {
          chunks.length = 0;
        },
      };
    },
  };
  return { sink, kept, chunkSizes };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('parseMessage with an attachment sink', () => {
  it('streams each attachment into the sink in chunks, hashed on the same pass', async () => {
    const { sink, kept, chunkSizes } = recordingSink();
    const m = await parseMessage(raw, undefined, { attachments: { sink } });
    expect(m.attachments.map((a) => [a.contentType, a.stored, a.url])).toEqual([
      ['application/pdf', true, null],
      ['image/png', true, null],
      ['image/gif', true, null],
    ]);
    expect(kept.get(sha256(pdf))).toEqual(pdf);
    expect(kept.get(sha256(png))).toEqual(png);
    expect(chunkSizes.length).toBeGreaterThan(3); // the 300 kB PDF came in several writes
    expect(m.problems.filter((p) => p.startsWith('attachment'))).toEqual([]);
  });

  it('marks attachments the HTML references by cid: as related (case-insensitively)', async () => {
    const m = await parseMessage(raw);
    expect(m.attachments.map((a) => a.related)).toEqual([false, true, false]);
    expect(m.attachments.every((a) => !a.stored)).toBe(true);
  });

  it('keeps only what `keep` selects and what fits `maxSize`; the rest is described', async () => {
    const { sink, kept } = recordingSink();
    const m = await parseMessage(raw, undefined, {
      attachments: { sink, keep: (info) => info.contentType.startsWith('image/'), maxSize: 4000 },
    });
    expect(m.attachments.map((a) => a.stored)).toEqual([false, false, true]);
    expect(m.attachments[1]!.sha256).toBe(sha256(png)); // over maxSize: still hashed
    expect(m.attachments[1]!.size).toBe(png.length);
    expect([...kept.values()].map((b) => b.length)).toEqual([6]);
  });

  it('turns a failed write into a problem and an attachment not stored, never a crash', async () => {
    const { sink } = recordingSink(true);
    const m = await parseMessage(raw, undefined, { attachments: { sink } });
    expect(m.attachments.map((a) => a.stored)).toEqual([false, false, false]);
    expect(m.attachments[0]!.sha256).toBe(sha256(pdf));
    expect(m.problems).toContain('attachment-not-stored: attachment 0 could not be stored: disk full');
  });
});

describe('extractAttachment', () => {
  it('streams one attachment again from the raw message', async () => {
    expect(await readAll(extractAttachment(raw, 0))).toEqual(pdf);
    expect(await readAll(extractAttachment(raw, 1))).toEqual(png);
  });

  it('fails the stream with a precise error for an index the message does not have', async () => {
    await expect(readAll(extractAttachment(raw, 7))).rejects.toThrow(
      'the message has no attachment 7 (it has 3)',
    );
  });
});
