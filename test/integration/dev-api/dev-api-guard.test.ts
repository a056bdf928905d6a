import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler, mailbox } from '../../../lib/actions/builders.ts';
import { resolveConfig } from '../../../lib/config/resolve-config.ts';
import { type LocalMailroom, startLocalMailroom } from '../../../lib/dev/local-mailroom.ts';
import { silentLogger } from '../../../lib/kernel/index.ts';

/**
 * The dev API over a real HTTP server on 127.0.0.1, asked the way a hostile web page (DNS rebinding, a
 * cross-site form, a no-cors fetch) and the legitimate clients (curl, the CLI, the page itself) ask it.
 */

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let dir: string;
let mr: LocalMailroom;
let ordersRuns = 0;
let ordersFail = false; // the orders handler throws while set: a failed message to replay
let host: string; // 127.0.0.1:<port>, what curl and the page send

/** One request with exactly these headers (node:http sends the given Host as is, like a rebound browser). */
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

const mail = (subject: string) =>
  `From: Ada <ada@sender.test>\r\nTo: support@example.com\r\nSubject: ${subject}\r\n\r\nHello.\r\n`;

/** What curl sends for `curl --data-binary @m.eml -H 'Content-Type: message/rfc822' URL`. */
const curlHeaders = { 'user-agent': 'curl/8.5.0', accept: '*/*', 'content-type': 'message/rfc822' };

async function inject(subject: string, to = 'support@example.com'): Promise<string> {
  const res = await call(`/api/messages?from=ada@sender.test&to=${to}`, {
    method: 'POST',
    headers: curlHeaders,
    body: mail(subject),
  });
  expect(res.status, res.body).toBe(201);
  await mr.pipeline.drain();
  return (JSON.parse(res.body) as { id: string }).id;
}

async function messageCount(): Promise<number> {
  await mr.pipeline.drain();
  const res = await call('/api/messages?limit=500');
  return (JSON.parse(res.body) as { messages: unknown[] }).messages.length;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mailroom-dev-api-'));
  const config = resolveConfig({
    domains: ['example.com'],
    dataDir: dir,
    delivery: { processingDelayMaxMs: 0, backoffMs: 0, attempts: 1 },
    routes: [
      { name: 'support', match: 'support@example.com', action: mailbox('support') },
      {
        name: 'orders',
        match: 'orders@example.com',
        action: handler(() => {
          ordersRuns++;
          if (ordersFail) throw new Error('orders handler is broken');
        }, 'count-orders'),
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

describe('Host: DNS rebinding is refused', () => {
  it('answers 403 JSON and no data for a foreign Host on every path', async () => {
    const id = await inject('Secret subject');
    for (const path of [
      '/',
      '/api/health',
      '/api/messages',
      `/api/messages/${id}`,
      `/api/messages/${id}/raw`,
    ]) {
      for (const foreign of [
        'evil.test',
        `evil.test:${mr.httpPort}`,
        'localhost.evil.test',
        '127.0.0.1.evil.test',
      ]) {
        const res = await call(path, { headers: { host: foreign } });
        expect(res.status, `${path} Host ${foreign}`).toBe(403);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(JSON.parse(res.body).error).toMatch(/Host .* refused/);
        expect(res.body).not.toContain('Secret subject');
        expect(res.body).not.toContain(id);
      }
    }
  });

  it('refuses the event stream to a foreign Host before it opens', async () => {
    const res = await call('/api/events', { headers: { host: 'evil.test' } });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toHaveProperty('error');
  });

  it('refuses odd Host spellings and a request with no Host at all', async () => {
    for (const odd of ['evil.test@127.0.0.1', '127.0.0.1/x', 'localhost.', '[::1].evil.test']) {
      expect((await call('/api/health', { headers: { host: odd } })).status, odd).toBe(403);
    }
    // node:http always sends a Host, so these two go over a bare socket.
    for (const head of [
      'GET /api/messages HTTP/1.0\r\n\r\n',
      'GET /api/messages HTTP/1.1\r\nHost:\r\n\r\n',
    ]) {
      const socket = connect(mr.httpPort!, '127.0.0.1');
      await once(socket, 'connect');
      socket.end(head);
      let reply = '';
      for await (const chunk of socket) reply += chunk;
      expect(reply, head).toMatch(/^HTTP\/1\.1 403 /);
    }
  });

  it('answers every loopback name and address, with or without a port', async () => {
    const port = mr.httpPort;
    for (const ok of [
      host,
      '127.0.0.1',
      `localhost:${port}`,
      'LocalHost',
      `app.localhost:${port}`,
      `127.8.9.10:${port}`,
      `[::1]:${port}`,
      '[0:0:0:0:0:0:0:1]',
    ]) {
      const res = await call('/api/health', { headers: { host: ok } });
      expect(res.status, ok).toBe(200);
    }
  });
});

describe('state-changing requests from other sites are refused', () => {
  it('refuses POST /api/messages with a foreign Origin and stores nothing', async () => {
    const before = await messageCount();
    for (const origin of ['http://evil.test', `http://localhost:${mr.httpPort! + 1}`, 'null']) {
      const res = await call('/api/messages?from=ada@sender.test&to=support@example.com', {
        method: 'POST',
        headers: { ...curlHeaders, origin },
        body: mail('from evil'),
      });
      expect(res.status, origin).toBe(403);
      expect(JSON.parse(res.body).error).toMatch(/cross-origin request refused/);
    }
    expect(await messageCount()).toBe(before);
  });

  it('refuses the simple content types a cross-site form or no-cors fetch can send', async () => {
    const before = await messageCount();
    for (const type of [
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      undefined,
    ]) {
      const res = await call('/api/messages?from=ada@sender.test&to=support@example.com', {
        method: 'POST',
        headers: type ? { 'content-type': type } : {},
        body: mail('simple request'),
      });
      expect(res.status, String(type)).toBe(403);
      expect(JSON.parse(res.body).error).toMatch(/Content-Type: message\/rfc822/);
    }
    const json = await call('/api/messages?to=support@example.com', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(json.status).toBe(415);
    expect(await messageCount()).toBe(before);
  });

  it('refuses Sec-Fetch-Site: cross-site and same-site even without an Origin', async () => {
    const before = await messageCount();
    for (const site of ['cross-site', 'same-site']) {
      const res = await call('/api/messages?to=support@example.com', {
        method: 'POST',
        headers: { ...curlHeaders, 'sec-fetch-site': site },
        body: mail('fetch metadata'),
      });
      expect(res.status, site).toBe(403);
    }
    expect(await messageCount()).toBe(before);
  });

  it('refuses a replay from a foreign origin or without X-Mailroom-Request, and runs nothing', async () => {
    ordersFail = true;
    const id = await inject('An order', 'orders@example.com');
    ordersFail = false;
    const runs = ordersRuns;
    expect(runs).toBeGreaterThan(0);
    const refused: Array<Record<string, string>> = [
      { origin: 'http://evil.test', 'x-mailroom-request': '1' },
      { 'sec-fetch-site': 'cross-site', 'x-mailroom-request': '1' },
      {}, // a cross-site form or no-cors fetch cannot add the custom header
      { 'content-type': 'text/plain' },
      { 'x-mailroom-request': '0' },
    ];
    for (const headers of refused) {
      const res = await call(`/api/messages/${id}/replay`, { method: 'POST', headers });
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(JSON.parse(res.body)).toHaveProperty('error');
    }
    await mr.pipeline.drain();
    expect(ordersRuns).toBe(runs);
    expect(JSON.parse((await call(`/api/messages/${id}`)).body).status).toBe('failed');
  });
});

describe('the legitimate clients still work', () => {
  it('curl: POST message/rfc822 with no Origin → 201, and the README GET', async () => {
    const id = await inject('From curl');
    const list = await call('/api/messages?mailbox=support', {
      headers: { 'user-agent': 'curl/8.5.0', accept: '*/*' },
    });
    expect(list.status).toBe(200);
    expect(JSON.parse(list.body).messages.map((m: { id: string }) => m.id)).toContain(id);
  });

  it('the CLI and curl replay with X-Mailroom-Request: 1', async () => {
    ordersFail = true;
    const id = await inject('Replay me', 'orders@example.com');
    ordersFail = false;
    const runs = ordersRuns;
    const res = await call(`/api/messages/${id}/replay`, {
      method: 'POST',
      headers: { 'x-mailroom-request': '1' },
    });
    expect(res.status, res.body).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ id, status: 'processed' });
    expect(ordersRuns).toBe(runs + 1);
  });

  it('the page: same-origin requests as a browser sends them', async () => {
    const page = await call('/', { headers: { 'sec-fetch-site': 'none', 'sec-fetch-mode': 'navigate' } });
    expect(page.status).toBe(200);
    // The page's script (an asset it names) sends the header with its state-changing requests.
    const script = page.body.match(/src="(\/assets\/app-[0-9a-f]+\.js)"/)?.[1];
    expect(script).toBeDefined();
    expect((await call(script!)).body).toContain('"X-Mailroom-Request":"1"');
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    const origin = `http://${host}`;
    const browser = { origin, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors' };
    expect((await call('/api/messages', { headers: browser })).status).toBe(200);
    const id = await inject('Page replay', 'orders@example.com');
    const replay = await call(`/api/messages/${id}/replay`, {
      method: 'POST',
      headers: { ...browser, 'x-mailroom-request': '1' },
    });
    expect(replay.status, replay.body).toBe(200);
    const posted = await call('/api/messages?to=support@example.com', {
      method: 'POST',
      headers: { ...browser, 'content-type': 'message/rfc822' },
      body: mail('same origin post'),
    });
    expect(posted.status, posted.body).toBe(201);
    // The same page opened as http://localhost:<port> is its own origin too.
    const viaLocalhost = await call(`/api/messages/${id}/replay`, {
      method: 'POST',
      headers: {
        host: `localhost:${mr.httpPort}`,
        origin: `http://localhost:${mr.httpPort}`,
        'x-mailroom-request': '1',
      },
    });
    expect(viaLocalhost.status).toBe(200);
  });
});

describe('envelope parameters of POST /api/messages', () => {
  const post = (query: string) =>
    call(`/api/messages?${query}`, { method: 'POST', headers: curlHeaders, body: mail('envelope') });

  it('answers 400 for control characters, absurd length or a non-address in from= and to=', async () => {
    const before = await messageCount();
    const bad = [
      'from=ada@sender.test%0D%0ARCPT%20TO:<victim@example.com>&to=support@example.com',
      'from=ada@sender.test%0D%0A&to=support@example.com',
      'from=ada@sender.test%0A&to=support@example.com',
      'from=ada%00@sender.test&to=support@example.com',
      'from=ada@sender.test%C2%85&to=support@example.com',
      `from=${'a'.repeat(990)}@sender.test&to=support@example.com`,
      'from=not-an-address&to=support@example.com',
      'from=<ada@sender.test>&to=support@example.com',
      'from=a@b.test&from=c@d.test&to=support@example.com',
      'from=ada@sender.test&to=support@example.com%0D%0ABcc:x@y.test',
      'from=ada@sender.test&to=support%09@example.com',
      'from=ada@sender.test&to=support@example.com,nobody',
    ];
    for (const query of bad) {
      const res = await post(query);
      expect(res.status, query).toBe(400);
      expect(JSON.parse(res.body).error).toMatch(/^(from|to)=|at most one from=/);
    }
    const plus = await post('to=support+tag@example.com');
    expect(plus.status).toBe(400);
    expect(JSON.parse(plus.body).error).toContain('%2B');
    expect(await messageCount()).toBe(before);
  });

  it('accepts the null sender, comma lists, %2B and quoted local parts', async () => {
    for (const query of [
      'to=support@example.com',
      'from=&to=support@example.com',
      'from=%3C%3E&to=support@example.com',
      'from=%22ada%20l%22@sender.test&to=support%2Btag@example.com,support@example.com',
    ]) {
      expect((await post(query)).status, query).toBe(201);
    }
  });
});

describe('response headers and limits', () => {
  it('sends nosniff on message bytes, JSON, the page and the event stream', async () => {
    const id = await inject('nosniff');
    const raw = await call(`/api/messages/${id}/raw`);
    expect(raw.headers['content-type']).toBe('message/rfc822');
    expect(raw.headers['x-content-type-options']).toBe('nosniff');
    expect(raw.headers['cross-origin-resource-policy']).toBe('same-origin');
    for (const path of ['/', '/api/messages', `/api/messages/${id}`, '/api/outbox', '/api/nope']) {
      expect((await call(path)).headers['x-content-type-options'], path).toBe('nosniff');
    }
    const events = await new Promise<Answer['headers']>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: mr.httpPort!, path: '/api/events' }, (res) => {
        resolve(res.headers);
        req.destroy();
      });
      req.on('error', reject);
      req.end();
    });
    expect(events['x-content-type-options']).toBe('nosniff');
  });

  it('clamps ?limit to 500 on every listing, and refuses a limit that is not a positive integer', async () => {
    // More than 500 messages, accepted straight through the pipeline (the HTTP path is tested above).
    const have = await messageCount();
    for (let i = have; i < 505; i++) {
      await mr.pipeline.accept({
        envelope: { mailFrom: 'ada@sender.test', rcptTo: ['support@example.com'] },
        body: Buffer.from(mail(`bulk ${i}`)),
      });
    }
    await mr.pipeline.drain();
    const count = async (path: string, key: string) => {
      const res = await call(path);
      expect(res.status, path).toBe(200);
      return (JSON.parse(res.body) as Record<string, unknown[]>)[key]!.length;
    };
    expect(await count('/api/messages?limit=100000', 'messages')).toBe(500);
    expect(await count('/api/messages?mailbox=support&limit=501', 'messages')).toBe(500);
    expect(await count('/api/messages?limit=3', 'messages')).toBe(3);
    expect(await count('/api/mailboxes/support?limit=100000', 'entries')).toBe(500);
    expect(await count('/api/mailboxes/support', 'entries')).toBe(500);
    expect(await count('/api/mailboxes/support?limit=2', 'entries')).toBe(2);
    expect(await count('/api/outbox?limit=100000', 'messages')).toBe(0);
    const [first] = JSON.parse((await call('/api/messages?limit=1')).body).messages;
    expect(await count(`/api/threads/${first.threadId}?limit=100000`, 'messages')).toBeGreaterThan(0);
    for (const bad of ['0', '-1', '1.5', 'abc', '']) {
      expect((await call(`/api/messages?limit=${bad}`)).status, bad).toBe(400);
      expect((await call(`/api/outbox?limit=${bad}`)).status, bad).toBe(400);
      expect((await call(`/api/mailboxes/support?limit=${bad}`)).status, bad).toBe(400);
    }
  });
});
