import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailbox } from '../../../lib/actions/index.ts';
import { resolveConfig } from '../../../lib/config/index.ts';
import { type LocalMailroom, startLocalMailroom } from '../../../lib/dev/index.ts';
import { silentLogger } from '../../../lib/kernel/index.ts';
import type { MessageDetail } from '../../../lib/store/index.ts';
import { getJson, waitFor } from '../../support/mailroom-process.ts';

/** The dev API's attachment route: stored and extracted bytes, dispositions, hostile names and types. */
const svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>';
const raw = [
  'From: a@example.net',
  'To: box@example.com',
  'Subject: parts',
  'Content-Type: multipart/mixed; boundary="b"',
  '',
  '--b',
  'Content-Type: text/plain',
  '',
  'hello',
  '--b',
  'Content-Type: image/svg+xml; name="../../evil.svg"',
  '',
  svg,
  '--b',
  'Content-Type: text/html; name="page.html"',
  'Content-Disposition: attachment; filename="con.html"',
  '',
  '<script>alert(2)</script>',
  '--b',
  'Content-Type: weird; name="x.bin"',
  'Content-Disposition: attachment',
  '',
  'opaque',
  '--b--',
  '',
].join('\r\n');

let dir: string;
let mr: LocalMailroom;
let api: string;
let detail: MessageDetail;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailroom-att-routes-'));
  const config = resolveConfig({
    domains: ['example.com'],
    dataDir: dir,
    attachments: { contentTypes: ['image/*'] },
    routes: [{ match: 'box@example.com', action: mailbox('box') }],
  });
  mr = await startLocalMailroom({ config, logger: silentLogger, smtpPort: 0, httpPort: 0 });
  api = `http://127.0.0.1:${mr.httpPort}`;
  const res = await fetch(`${api}/api/messages?from=a@example.net&to=box@example.com`, {
    method: 'POST',
    headers: { 'content-type': 'message/rfc822' },
    body: raw,
  });
  const { id } = (await res.json()) as { id: string };
  detail = await waitFor(async () => {
    const m = await getJson<MessageDetail>(`${api}/api/messages/${id}`);
    return m.status === 'processed' ? m : null;
  }, 'processed');
}, 60_000);

afterAll(async () => {
  await mr?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('GET /api/messages/:id/attachments/:n', () => {
  it('keeps only the configured types, and serves the others extracted from the raw message', async () => {
    expect(detail.parsed!.attachments.map((a) => a.stored)).toEqual([true, false, false]);
    const html = await fetch(`${api}/api/messages/${detail.id}/attachments/1`);
    expect(html.status).toBe(200);
    expect(await html.text()).toBe('<script>alert(2)</script>');
  });

  it('never shows SVG or HTML inline, and gives a safe filename', async () => {
    const image = await fetch(`${api}/api/messages/${detail.id}/attachments/0`);
    expect(image.headers.get('content-type')).toBe('image/svg+xml');
    expect(image.headers.get('content-disposition')).toBe(
      `attachment; filename="evil.svg"; filename*=UTF-8''evil.svg`,
    );
    expect(image.headers.get('content-security-policy')).toMatch(/^sandbox;/);
    expect(image.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await image.text()).toBe(svg);
    const html = await fetch(`${api}/api/messages/${detail.id}/attachments/1`);
    expect(html.headers.get('content-type')).toBe('text/html');
    expect(html.headers.get('content-disposition')).toMatch(/^attachment; filename="_con\.html"/);
    await html.arrayBuffer();
  });

  it('serves a malformed content type as octet-stream', async () => {
    const odd = await fetch(`${api}/api/messages/${detail.id}/attachments/2`);
    expect(odd.headers.get('content-type')).toBe('application/octet-stream');
    expect(await odd.text()).toBe('opaque');
  });

  it('answers 404 for an unknown message or index, and 403 for a forged file link', async () => {
    expect((await fetch(`${api}/api/messages/${detail.id}/attachments/3`)).status).toBe(404);
    expect((await fetch(`${api}/api/messages/nope/attachments/0`)).status).toBe(404);
    expect((await fetch(`${api}/files/abc.def`)).status).toBe(403);
  });
});
