import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler, type WebhookPayload, webhook } from '../../../lib/actions/index.ts';
import { resolveConfig } from '../../../lib/config/index.ts';
import { type LocalMailroom, startLocalMailroom } from '../../../lib/dev/index.ts';
import { silentLogger } from '../../../lib/kernel/index.ts';
import type { MessageDetail } from '../../../lib/store/index.ts';
import { getJson, waitFor } from '../../support/mailroom-process.ts';

/**
 * Issue 13 over real SMTP: a 20 MB PDF, an inline image the HTML references by `cid:` and a forwarded
 * message, each stored once under the data directory, read by a handler, downloaded by a webhook receiver
 * through its signed link, which stops working once the (injected) clock passes its expiry.
 */
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(20 * 1024 * 1024)]);
const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(2048)]);
const forwarded =
  'From: a@example.net\r\nTo: b@example.com\r\nSubject: the original\r\n\r\nForwarded text.\r\n';

let dir: string;
let mr: LocalMailroom;
let hooks: Server;
let hookUrl: string;
let clock = Date.parse('2026-12-01T10:00:00Z');
const payloads: WebhookPayload[] = [];
const handlerReads: Array<{ sha256: string; size: number; url: string | null }> = [];

function attachmentFiles(): Array<{ name: string; size: number }> {
  const root = join(dir, 'attachments');
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(join(root, d.name)).map((name) => ({
        name,
        size: statSync(join(root, d.name, name)).size,
      })),
    );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailroom-att-'));
  hooks = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      payloads.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookPayload);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
  const address = hooks.address();
  hookUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;
  const config = resolveConfig({
    domains: ['example.com'],
    dataDir: dir,
    smtp: { maxMessageBytes: 40 * 1024 * 1024 },
    attachments: { urlExpiresIn: 600 },
    routes: [
      {
        match: 'files@example.com',
        action: [
          handler(async (ctx) => {
            const pdfPart = ctx.attachments.find((a) => a.contentType === 'application/pdf')!;
            const hash = createHash('sha256');
            let size = 0;
            for await (const chunk of pdfPart.stream()) {
              hash.update(chunk as Buffer);
              size += (chunk as Buffer).length;
            }
            handlerReads.push({ sha256: hash.digest('hex'), size, url: await pdfPart.url() });
          }, 'read-pdf'),
          webhook(hookUrl),
        ],
      },
    ],
  });
  mr = await startLocalMailroom({
    config,
    logger: silentLogger,
    smtpPort: 0,
    httpPort: 0,
    now: () => new Date(clock),
  });
}, 60_000);

afterAll(async () => {
  await mr?.close();
  hooks?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function send(subject: string, withAll: boolean): Promise<MessageDetail> {
  const transport = createTransport({ host: '127.0.0.1', port: mr.smtpPort, secure: false, ignoreTLS: true });
  try {
    const info = await transport.sendMail({
      envelope: { from: 'sender@example.net', to: ['files@example.com'] },
      from: 'sender@example.net',
      to: 'files@example.com',
      subject,
      text: 'Invoice attached.',
      html: withAll ? '<p>Invoice attached.</p><img src="cid:logo@example.net">' : '<p>Again.</p>',
      attachments: [
        { filename: 'invoice.pdf', content: pdf, contentType: 'application/pdf' },
        ...(withAll
          ? [
              { filename: 'logo.png', content: png, contentType: 'image/png', cid: 'logo@example.net' },
              { filename: 'original.eml', content: forwarded, contentType: 'message/rfc822' },
            ]
          : []),
      ],
    });
    const id = /queued as (\S+)/.exec(info.response)![1]!;
    const api = `http://127.0.0.1:${mr.httpPort}`;
    return await waitFor(
      async () => {
        const m = await getJson<MessageDetail>(`${api}/api/messages/${id}`);
        return m.status === 'processed' || m.status === 'failed' ? m : null;
      },
      `message ${id} processed`,
      120_000,
    );
  } finally {
    transport.close();
  }
}

describe('attachments over SMTP', () => {
  let first: MessageDetail;

  it('stores each attachment once, content-addressed, with the original bytes', async () => {
    first = await send('Invoice 1', true);
    expect(first.status).toBe('processed');
    const attachments = first.parsed!.attachments;
    // The image is part of the HTML's multipart/related, so it comes first in MIME order.
    expect(attachments.map((a) => [a.contentType, a.stored, a.related])).toEqual([
      ['image/png', true, true],
      ['application/pdf', true, false],
      ['message/rfc822', true, false],
    ]);
    expect(attachments[0]!.sha256).toBe(sha256(png));
    expect(attachments[1]!.sha256).toBe(sha256(pdf));
    expect(attachments.map((a) => a.url)).toEqual(
      [0, 1, 2].map((n) => `/api/messages/${first.id}/attachments/${n}`),
    );
    const files = attachmentFiles();
    expect(files.map((f) => f.name).sort()).toEqual(attachments.map((a) => a.sha256).sort());
    expect(files.find((f) => f.name === sha256(pdf))!.size).toBe(pdf.length);
    expect(
      first.trace.some((t) => t.step === 'attachments' && t.detail.startsWith('3 stored (3 new, ')),
    ).toBe(true);
  }, 180_000);

  it('adds no bytes for a second message with the same PDF', async () => {
    const before = attachmentFiles().reduce((sum, f) => sum + f.size, 0);
    const second = await send('Invoice 1 again', false);
    expect(second.parsed!.attachments[0]!.stored).toBe(true);
    expect(attachmentFiles().reduce((sum, f) => sum + f.size, 0)).toBe(before);
    expect(
      second.trace.some((t) => t.step === 'attachments' && t.detail.startsWith('1 stored (0 new, 0 bytes)')),
    ).toBe(true);
  }, 180_000);

  it('lets a handler read the PDF by stream', () => {
    expect(handlerReads[0]).toMatchObject({ sha256: sha256(pdf), size: pdf.length });
    expect(handlerReads[0]!.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${mr.httpPort}/files/`));
  });

  it('serves the decoded bytes on the API path, images inline, the rest as attachments', async () => {
    const api = `http://127.0.0.1:${mr.httpPort}/api/messages/${first.id}/attachments`;
    const image = await fetch(`${api}/0`);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(image.headers.get('content-disposition')).toMatch(/^inline; filename="logo\.png"/);
    expect(sha256(Buffer.from(await image.arrayBuffer()))).toBe(sha256(png));
    const download = await fetch(`${api}/0?download=1`);
    expect(download.headers.get('content-disposition')).toMatch(/^attachment;/);
    await download.arrayBuffer();
    const eml = await fetch(`${api}/2`);
    expect(eml.headers.get('content-disposition')).toMatch(/^attachment; filename="original\.eml"/);
    expect(Buffer.from(await eml.arrayBuffer()).toString()).toContain('Forwarded text.');
    expect((await fetch(`${api}/3`)).status).toBe(404);
  });

  it('gives the webhook a time-limited URL it can download from, which stops working after expiry', async () => {
    const payload = payloads.find((p) => p.data.id === first.id)!;
    const link = payload.data.message.attachments[1]!;
    expect(link.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/files\/[A-Za-z0-9_.-]+$/);
    expect(link.urlExpiresAt).toEqual(expect.any(String));
    const res = await fetch(link.url!);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="invoice\.pdf"/);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(pdf));

    // A changed character in the middle of the signature (the last one has unused bits; the unit test
    // covers that spelling separately).
    const dot = link.url!.lastIndexOf('.');
    const at = dot + 10;
    const forged = `${link.url!.slice(0, at)}${link.url![at] === 'A' ? 'B' : 'A'}${link.url!.slice(at + 1)}`;
    expect((await fetch(forged)).status).toBe(403);

    clock += 601 * 1000;
    const expired = await fetch(link.url!);
    expect(expired.status).toBe(410);
    expect(await expired.json()).toEqual({ error: 'this attachment link has expired' });
  }, 60_000);
});
