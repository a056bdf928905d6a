import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type HandlerContext, handler } from '../../../lib/actions/index.ts';
import { createTestMailroom } from '../../../lib/testing/index.ts';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const zip = randomBytes(40_000);
const jpg = randomBytes(3000);

const raw = [
  'From: a@example.net',
  'To: files@example.com',
  'Subject: two files',
  'Content-Type: multipart/mixed; boundary="b"',
  '',
  '--b',
  'Content-Type: text/plain',
  '',
  'See attached.',
  '--b',
  'Content-Type: application/zip; name="a.zip"',
  'Content-Transfer-Encoding: base64',
  '',
  ...(zip.toString('base64').match(/.{1,76}/g) ?? []),
  '--b',
  'Content-Type: image/jpeg; name="b.jpg"',
  'Content-Transfer-Encoding: base64',
  '',
  ...(jpg.toString('base64').match(/.{1,76}/g) ?? []),
  '--b--',
  '',
].join('\n');

describe('ctx.attachments in mailroom/testing', () => {
  it('reads kept attachments from the store and the others again from ctx.raw', async () => {
    const seen: Array<{
      name: string | null;
      stored: boolean;
      viaStream: string;
      viaBuffer: string;
      url: string | null;
    }> = [];
    const mr = await createTestMailroom({
      domains: ['example.com'],
      attachments: { contentTypes: ['image/*'] },
      routes: [
        {
          match: 'files@example.com',
          action: handler(async (ctx: HandlerContext) => {
            for (const a of ctx.attachments) {
              const chunks: Buffer[] = [];
              for await (const chunk of a.stream()) chunks.push(chunk as Buffer);
              seen.push({
                name: a.filename,
                stored: a.stored,
                viaStream: sha256(Buffer.concat(chunks)),
                viaBuffer: sha256(await a.buffer()),
                url: await a.url(),
              });
            }
          }),
        },
      ],
    });
    try {
      const result = await mr.deliver(raw, { to: 'files@example.com' });
      expect(result.status).toBe('processed');
      expect(seen).toEqual([
        { name: 'a.zip', stored: false, viaStream: sha256(zip), viaBuffer: sha256(zip), url: null },
        { name: 'b.jpg', stored: true, viaStream: sha256(jpg), viaBuffer: sha256(jpg), url: null },
      ]);
      expect(result.parsed!.attachments.map((a) => a.url)).toEqual([
        null,
        `/api/messages/${result.id}/attachments/1`,
      ]);
      expect(result.trace.find((t) => t.step === 'attachments')?.detail).toBe(
        `1 stored (1 new, ${jpg.length} bytes); 1 not kept`,
      );
    } finally {
      await mr.close();
    }
  });
});
