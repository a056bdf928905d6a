import { mkdtempSync, rmSync } from 'node:fs';
import { type IncomingMessage, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { handler, mailbox } from '../../../lib/actions/builders.ts';
import { resolveConfig } from '../../../lib/config/resolve-config.ts';
import { type LocalMailroom, startLocalMailroom } from '../../../lib/dev/local-mailroom.ts';
import { silentLogger } from '../../../lib/kernel/index.ts';

/** The routes the dev page uses, over a real dev server on 127.0.0.1 (see the README's dev API table). */

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let dir: string;
let mr: LocalMailroom;
let host: string;
let ordersFail = false;
let ordersRuns = 0;
const PAGE = { 'x-mailroom-request': '1' };
const MAX_BYTES = 256 * 1024;
const JSON_PAGE = { ...PAGE, 'content-type': 'application/json' };

function call(
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: mr.httpPort!,
        path,
        method: opts.method ?? 'GET',
        headers: { host, ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const body = <T>(answer: Answer): T => JSON.parse(answer.body) as T;
const errorOf = (answer: Answer) => body<{ error: string }>(answer).error;

/** The events `GET /api/events` sends until `stop()`. */
function listen(): Promise<{ events: Array<{ event: string; data: unknown }>; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const events: Array<{ event: string; data: unknown }> = [];
    const req = request(
      { host: '127.0.0.1', port: mr.httpPort!, path: '/api/events', headers: { host } },
      (res: IncomingMessage) => {
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let end = buffered.indexOf('\n\n');
          while (end !== -1) {
            const block = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) events.push({ event, data: JSON.parse(data) });
            end = buffered.indexOf('\n\n');
          }
        });
        res.on('error', () => {});
        resolve({ events, stop: () => req.destroy() });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const mail = (subject: string, extra = '', text = 'Hello.') =>
  `From: Ada <ada@sender.test>\r\nTo: support@example.com\r\nSubject: ${subject}\r\n${extra}\r\n${text}\r\n`;

async function inject(subject: string, to = 'support@example.com', text = 'Hello.'): Promise<string> {
  const res = await call(`/api/messages?from=ada@sender.test&to=${to}`, {
    method: 'POST',
    headers: { 'content-type': 'message/rfc822' },
    body: mail(subject, '', text),
  });
  expect(res.status, res.body).toBe(201);
  await mr.pipeline.drain();
  return body<{ id: string }>(res).id;
}

interface Summary {
  id: string;
  subject: string;
  read?: boolean;
  status: string;
}
interface Listing {
  messages: Summary[];
  nextCursor: string | null;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailroom-dev-page-api-'));
  const config = resolveConfig({
    domains: ['example.com'],
    dataDir: dir,
    smtp: { maxMessageBytes: MAX_BYTES },
    delivery: { processingDelayMaxMs: 0, backoffMs: 0, attempts: 1 },
    routes: [
      { name: 'vip', match: 'support@example.com', when: { subject: 'vip*' }, action: mailbox('vip') },
      { name: 'support', match: 'support@example.com', action: mailbox('support') },
      {
        name: 'orders',
        match: 'orders@example.com',
        action: [
          mailbox('orders'),
          handler(() => {
            ordersRuns++;
            if (ordersFail) throw new Error('orders handler is broken');
          }, 'count-orders'),
        ],
      },
    ],
  });
  mr = await startLocalMailroom({ config, logger: silentLogger, smtpPort: 0, httpPort: 0 });
  host = `127.0.0.1:${mr.httpPort}`;
});

afterAll(async () => {
  await mr?.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  ordersFail = false;
  const res = await call('/api/messages', { method: 'DELETE', headers: PAGE });
  expect(res.status, res.body).toBe(200);
});

describe('GET /api/messages: filters, search and paging', () => {
  it('pages newest first with nextCursor until the last page says null', async () => {
    const ids = [await inject('one'), await inject('two'), await inject('three')];
    const first = body<Listing>(await call('/api/messages?limit=2'));
    expect(first.messages.map((m) => m.id)).toEqual([ids[2], ids[1]]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const rest = body<Listing>(await call(`/api/messages?limit=2&before=${first.nextCursor}`));
    expect(rest.messages.map((m) => m.id)).toEqual([ids[0]]);
    expect(rest.nextCursor).toBeNull();
  });

  it('filters by mailbox, status, route, failed delivery and full text', async () => {
    const vip = await inject('vip order', 'support@example.com', 'please call me');
    const plain = await inject('printer', 'support@example.com', 'the printer is on fire');
    ordersFail = true;
    const failed = await inject('order 42', 'orders@example.com');
    const ids = async (query: string) =>
      body<Listing>(await call(`/api/messages?${query}`)).messages.map((m) => m.id);
    expect(await ids('mailbox=vip')).toEqual([vip]);
    expect(await ids('route=support')).toEqual([plain]);
    expect(await ids('status=failed')).toEqual([failed]);
    expect(await ids('failed=1')).toEqual([failed]);
    expect(await ids('q=fire')).toEqual([plain]);
    expect(await ids('q=pri')).toEqual([plain]);
    expect(await ids('q=%22unbalanced')).toEqual([]);
  });

  it('answers 400 naming the bad parameter and what it takes', async () => {
    for (const [query, message] of [
      ['status=lost', /status= must be one of received, processing, processed, failed/],
      ['failed=maybe', /failed= must be 1 or 0/],
      ['limit=0', /limit= must be an integer from 1 to 500/],
      ['before=not-a-cursor', /before= must be a nextCursor value/],
      ['mailbx=support', /unknown parameter "mailbx": use mailbox, status, route, failed, q, limit, before/],
      ['status=failed&status=processed', /at most one status=/],
    ] as const) {
      const res = await call(`/api/messages?${query}`);
      expect(res.status, query).toBe(400);
      expect(errorOf(res), query).toMatch(message);
    }
  });
});

describe('mailboxes, read state and deleting', () => {
  it('counts mailboxes, marks read and unread, and tells other pages', async () => {
    const sse = await listen();
    const id = await inject('printer');
    await inject('vip call');
    expect(body<{ mailboxes: unknown[] }>(await call('/api/mailboxes')).mailboxes).toEqual([
      { name: 'support', count: 1, unread: 1 },
      { name: 'vip', count: 1, unread: 1 },
    ]);
    const put = await call(`/api/messages/${id}/read`, {
      method: 'PUT',
      headers: JSON_PAGE,
      body: '{"read":true}',
    });
    expect(put.status, put.body).toBe(204);
    expect(body<Listing>(await call('/api/messages?mailbox=support')).messages[0]?.read).toBe(true);
    expect(body<{ mailboxes: unknown[] }>(await call('/api/mailboxes')).mailboxes).toContainEqual({
      name: 'support',
      count: 1,
      unread: 0,
    });
    await until(() => sse.events.some((e) => e.event === 'message.read'), 'message.read');
    expect(sse.events.find((e) => e.event === 'message.read')?.data).toEqual({ id, read: true });
    sse.stop();

    const bad = await call(`/api/messages/${id}/read`, {
      method: 'PUT',
      headers: JSON_PAGE,
      body: '{"read":"yes"}',
    });
    expect(bad.status).toBe(400);
    expect(errorOf(bad)).toMatch(/read must be true or false/);
    const unknown = await call('/api/messages/nope/read', {
      method: 'PUT',
      headers: JSON_PAGE,
      body: '{"read":true}',
    });
    expect(unknown.status).toBe(404);
  });

  it('deletes one message (records and raw bytes), then 404', async () => {
    const sse = await listen();
    const id = await inject('to delete');
    const keep = await inject('to keep');
    const res = await call(`/api/messages/${id}`, { method: 'DELETE', headers: PAGE });
    expect(res.status, res.body).toBe(204);
    expect((await call(`/api/messages/${id}`)).status).toBe(404);
    expect((await call(`/api/messages/${id}/raw`)).status).toBe(404);
    expect((await call(`/api/messages/${id}`, { method: 'DELETE', headers: PAGE })).status).toBe(404);
    expect(body<Listing>(await call('/api/messages')).messages.map((m) => m.id)).toEqual([keep]);
    await until(() => sse.events.some((e) => e.event === 'message.deleted'), 'message.deleted');
    expect(sse.events.find((e) => e.event === 'message.deleted')?.data).toEqual({ id });
    sse.stop();
  });

  it('deletes what a filter selects, or everything', async () => {
    await inject('vip one');
    await inject('vip two');
    const other = await inject('printer');
    const res = await call('/api/messages?mailbox=vip', { method: 'DELETE', headers: PAGE });
    expect(body(res)).toEqual({ deleted: 2 });
    expect(body<Listing>(await call('/api/messages')).messages.map((m) => m.id)).toEqual([other]);
    const sse = await listen();
    expect(body(await call('/api/messages', { method: 'DELETE', headers: PAGE }))).toEqual({ deleted: 1 });
    expect(body<Listing>(await call('/api/messages')).messages).toEqual([]);
    await until(() => sse.events.some((e) => e.event === 'message.deleted'), 'message.deleted');
    expect(sse.events.find((e) => e.event === 'message.deleted')?.data).toEqual({ all: true });
    sse.stop();
  });
});

interface Delivery {
  key?: string;
  action: string;
  status: string;
  updatedAt?: string;
  finishedAt?: string;
  durationMs?: number;
}

describe('what Mailroom did: routing, deliveries, replay of one delivery', () => {
  it('explains the routing per recipient with the current config', async () => {
    const id = await inject('printer');
    const res = await call(`/api/messages/${id}/routing`);
    expect(res.status).toBe(200);
    expect(body(res)).toMatchObject({
      computedWith: 'current config',
      recipients: [
        {
          recipient: 'support@example.com',
          matched: [{ route: 'support', params: {}, actions: ['mailbox support'] }],
          rejected: null,
          considered: [
            { route: 'vip', matched: false, reason: 'condition `when.subject` false (subject is "printer")' },
            { route: 'support', matched: true, reason: 'matched, stop: first match wins' },
            {
              route: 'orders',
              matched: false,
              reason: 'not evaluated: stopped after support (first match wins)',
            },
          ],
        },
      ],
    });
  });

  it('gives each delivery its key, updatedAt and last-attempt timing, and replays one by key', async () => {
    ordersFail = true;
    const id = await inject('order 7', 'orders@example.com');
    let detail = body<{ deliveries: Delivery[]; status: string }>(await call(`/api/messages/${id}`));
    expect(detail.status).toBe('failed');
    const hook = detail.deliveries.find((d) => d.action === 'handler')!;
    expect(hook).toMatchObject({ status: 'failed', key: expect.stringContaining(`${id}:handler:`) });
    expect(Date.parse(hook.updatedAt!)).not.toBeNaN();
    expect(hook.durationMs).toEqual(expect.any(Number));
    expect(Date.parse(hook.finishedAt!)).not.toBeNaN();
    const box = detail.deliveries.find((d) => d.action === 'mailbox')!;
    expect(box.key).toBe(`${id}:mailbox:orders`);

    ordersFail = false;
    const runsBefore = ordersRuns;
    const sse = await listen();
    const res = await call(`/api/messages/${id}/deliveries/${encodeURIComponent(hook.key!)}/replay`, {
      method: 'POST',
      headers: PAGE,
    });
    expect(res.status, res.body).toBe(202);
    expect(body(res)).toEqual({ id, key: hook.key });
    await until(() => sse.events.some((e) => e.event === 'message.processed'), 'message.processed');
    sse.stop();
    expect(sse.events.some((e) => e.event === 'delivery.updated')).toBe(true);
    detail = body(await call(`/api/messages/${id}`));
    expect(detail.status).toBe('processed');
    expect(detail.deliveries.map((d) => [d.action, d.status])).toEqual([
      ['mailbox', 'delivered'],
      ['handler', 'delivered'],
    ]);
    expect(ordersRuns).toBe(runsBefore + 1);

    const unknown = await call(`/api/messages/${id}/deliveries/${encodeURIComponent(`${id}:nope`)}/replay`, {
      method: 'POST',
      headers: PAGE,
    });
    expect(unknown.status).toBe(404);
  });
});

describe('compose and the recipient check', () => {
  const composed = {
    from: 'Ada <ada@sender.test>',
    to: ['support@example.com'],
    subject: 'Composed',
    text: 'Typed in the page.',
    attachments: [{ filename: '../notes.txt', contentType: 'text/plain', contentBase64: 'aGVsbG8=' }],
  };

  it('sends a composed message with an attachment through the pipeline', async () => {
    const res = await call('/api/compose', {
      method: 'POST',
      headers: JSON_PAGE,
      body: JSON.stringify(composed),
    });
    expect(res.status, res.body).toBe(201);
    const { id } = body<{ id: string }>(res);
    await mr.pipeline.drain();
    const detail = body<{
      status: string;
      envelope: { mailFrom: string; rcptTo: string[] };
      parsed: { subject: string; attachments: Array<{ filename: string; size: number }> };
    }>(await call(`/api/messages/${id}`));
    expect(detail.status).toBe('processed');
    expect(detail.envelope).toMatchObject({ mailFrom: 'ada@sender.test', rcptTo: ['support@example.com'] });
    expect(detail.parsed.subject).toBe('Composed');
    expect(detail.parsed.attachments).toMatchObject([{ filename: 'notes.txt', size: 5 }]);
  });

  it('refuses a bad field (400), a refused recipient (422), a body that is not JSON (415) and too large (413)', async () => {
    const bad = await call('/api/compose', {
      method: 'POST',
      headers: JSON_PAGE,
      body: JSON.stringify({ ...composed, to: ['nope'] }),
    });
    expect(bad.status).toBe(400);
    expect(errorOf(bad)).toMatch(/^to\[0\]: "nope" is not an address/);
    const refused = await call('/api/compose', {
      method: 'POST',
      headers: JSON_PAGE,
      body: JSON.stringify({ ...composed, to: ['nobody@example.com'] }),
    });
    expect(refused.status).toBe(422);
    const form = await call('/api/compose', {
      method: 'POST',
      headers: { ...PAGE, 'content-type': 'text/plain' },
      body: JSON.stringify(composed),
    });
    expect(form.status).toBe(415);
    const huge = Buffer.alloc(MAX_BYTES).toString('base64'); // fits the JSON limit, not the message one
    const tooBig = await call('/api/compose', {
      method: 'POST',
      headers: JSON_PAGE,
      body: JSON.stringify({ ...composed, attachments: [{ filename: 'big', contentBase64: huge }] }),
    });
    expect(tooBig.status).toBe(413);
  });

  it('answers what RCPT would for an address as it is typed', async () => {
    expect(body(await call('/api/route?rcpt=support@example.com&from=ada@sender.test'))).toMatchObject({
      recipient: 'support@example.com',
      accepted: true,
      matched: [{ route: 'support', actions: ['mailbox support'] }],
      rejected: null,
    });
    expect(body(await call('/api/route?rcpt=nobody@example.com'))).toMatchObject({
      accepted: false,
      matched: [],
      rejected: { code: 550, message: expect.stringMatching(/^5\.1\.1/) },
    });
    expect(body(await call('/api/route?rcpt=ada@elsewhere.test'))).toMatchObject({
      accepted: false,
      rejected: { code: 550, message: expect.stringMatching(/^5\.7\.1 Relaying denied/) },
    });
    expect((await call('/api/route?rcpt=not-an-address')).status).toBe(400);
    expect((await call('/api/route')).status).toBe(400);
  });
});

describe('the HTML view', () => {
  it('points cid: images at the attachments, and loads remote content only with remote=1', async () => {
    const boundary = 'b1';
    const raw = [
      'From: Ada <ada@sender.test>',
      'To: support@example.com',
      'Subject: logo',
      'MIME-Version: 1.0',
      `Content-Type: multipart/related; boundary=${boundary}`,
      '',
      `--${boundary}`,
      'Content-Type: text/html; charset=utf-8',
      '',
      '<p><img src="cid:logo@sender.test"><img src="https://tracker.test/pixel.gif"></p>',
      `--${boundary}`,
      'Content-Type: image/png',
      'Content-ID: <logo@sender.test>',
      'Content-Transfer-Encoding: base64',
      '',
      'iVBORw0KGgo=',
      `--${boundary}--`,
      '',
    ].join('\r\n');
    const res = await call('/api/messages?from=ada@sender.test&to=support@example.com', {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822' },
      body: raw,
    });
    const { id } = body<{ id: string }>(res);
    await mr.pipeline.drain();
    const html = await call(`/api/messages/${id}/html`);
    expect(html.status).toBe(200);
    expect(html.body).toContain(`<img src="/api/messages/${id}/attachments/0">`);
    const csp = String(html.headers['content-security-policy']);
    expect(csp).toMatch(/^sandbox; default-src 'none'; /);
    expect(csp).not.toMatch(/https:|script-src/);
    const remote = String(
      (await call(`/api/messages/${id}/html?remote=1`)).headers['content-security-policy'],
    );
    expect(remote).toMatch(/img-src [^;]*https: http:/);
    expect(remote).toMatch(/style-src 'unsafe-inline' https: http:/);
    expect(remote).toMatch(/^sandbox; default-src 'none'; /);
    expect(remote).not.toMatch(/script-src/);
  });
});

describe('the new state-changing routes refuse other sites', () => {
  it('refuses a foreign Origin, a cross-site fetch and a request without X-Mailroom-Request', async () => {
    const id = await inject('precious');
    const key = `${id}:mailbox:support`;
    const routes: Array<[string, string, string | undefined]> = [
      ['DELETE', `/api/messages/${id}`, undefined],
      ['DELETE', '/api/messages', undefined],
      ['PUT', `/api/messages/${id}/read`, '{"read":true}'],
      ['POST', `/api/messages/${id}/deliveries/${encodeURIComponent(key)}/replay`, undefined],
      [
        'POST',
        '/api/compose',
        JSON.stringify({ from: 'a@sender.test', to: ['support@example.com'], subject: 'x' }),
      ],
    ];
    for (const [method, path, payload] of routes) {
      const json: Record<string, string> =
        payload === undefined ? {} : { 'content-type': 'application/json' };
      for (const headers of [
        { ...PAGE, ...json, origin: 'http://evil.test' },
        { ...PAGE, ...json, 'sec-fetch-site': 'cross-site' },
        { ...json },
        { 'content-type': 'text/plain' },
      ] as Array<Record<string, string>>) {
        const res = await call(path, { method, headers, body: payload });
        expect(res.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(403);
      }
    }
    const listing = body<Listing>(await call('/api/messages'));
    expect(listing.messages.map((m) => [m.id, m.read])).toEqual([[id, false]]);
  });
});
