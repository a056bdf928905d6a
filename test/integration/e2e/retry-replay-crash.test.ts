import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTransport } from 'nodemailer';
import { describe, expect, it } from 'vitest';
import type { MessageDetail, MessageSummary } from '../../../lib/store/index.ts';
import {
  getJson,
  mailroomBin,
  projectRoot,
  startMailroomProcess,
  waitFor,
} from '../../support/mailroom-process.ts';

const run = promisify(execFile);
const config = join(projectRoot, 'test/fixtures/flaky.config.ts');
const raw = (subject: string) =>
  `From: shop@sender.test\r\nTo: orders@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${Date.now()}@sender.test>\r\n\r\nOrder 42\r\n`;

function fixture() {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-flaky-'));
  const env = { FLAKY_STATE: join(dir, 'state'), FLAKY_LOG: join(dir, 'log') };
  writeFileSync(env.FLAKY_STATE, 'ok');
  writeFileSync(env.FLAKY_LOG, '');
  const lines = () => readFileSync(env.FLAKY_LOG, 'utf8').split('\n').filter(Boolean);
  return { dir, env, lines };
}

async function sendTo(port: number, to: string, subject: string): Promise<string> {
  const info = await createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true }).sendMail({
    envelope: { from: 'shop@sender.test', to: [to] },
    raw: raw(subject),
  });
  return info.response.match(/queued as (\S+)/)![1]!;
}

describe('retries, failure and replay', () => {
  it('retries a throwing handler, marks it failed, and `mailroom replay` delivers it once after the fix', async () => {
    const f = fixture();
    writeFileSync(f.env.FLAKY_STATE, 'broken');
    const mr = await startMailroomProcess({ config, env: f.env });
    try {
      const id = await sendTo(mr.smtpPort, 'orders@example.com', 'Broken backend');
      const failed = await waitFor(async () => {
        const m = await getJson<MessageDetail>(`${mr.api}/api/messages/${id}`);
        return m.status === 'failed' ? m : null;
      }, 'failed status');
      expect(failed.deliveries).toMatchObject([
        {
          route: 'orders',
          action: 'handler',
          status: 'failed',
          attempts: 3,
          error: expect.stringContaining('orders backend is down'),
        },
      ]);
      expect(
        failed.trace.filter((t) => /attempt/i.test(`${t.step} ${t.detail}`)).length,
      ).toBeGreaterThanOrEqual(3);
      expect(f.lines()).toEqual([]);

      writeFileSync(f.env.FLAKY_STATE, 'ok');
      const out = await run(process.execPath, [
        mailroomBin,
        'replay',
        id,
        '--http-port',
        String(mr.httpPort),
      ]);
      expect(JSON.parse(out.stdout.trim())).toEqual({ id, status: 'processed' });
      const after = await getJson<MessageDetail>(`${mr.api}/api/messages/${id}`);
      expect(after.deliveries).toMatchObject([{ status: 'delivered' }]);

      // Replaying a delivered message again changes nothing: the handler ran exactly once.
      await run(process.execPath, [mailroomBin, 'replay', id, '--http-port', String(mr.httpPort)]);
      expect(f.lines()).toHaveLength(1);
    } finally {
      await mr.stop();
    }
  });

  it('replays every failed message in-process with `mailroom replay --failed` when no server runs', async () => {
    const f = fixture();
    writeFileSync(f.env.FLAKY_STATE, 'broken');
    const mr = await startMailroomProcess({ config, env: f.env });
    let id: string;
    try {
      id = await sendTo(mr.smtpPort, 'orders@example.com', 'Fails then replays');
      await waitFor(
        async () => (await getJson<MessageDetail>(`${mr.api}/api/messages/${id}`)).status === 'failed',
        'failed',
      );
    } finally {
      await mr.stop();
    }
    writeFileSync(f.env.FLAKY_STATE, 'ok');
    const out = await run(
      process.execPath,
      [mailroomBin, 'replay', '--failed', '--config', config, '--data', mr.dataDir, '--http-port', '1'],
      { env: { ...process.env, ...f.env } },
    );
    expect(
      out.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([{ id: id!, status: 'processed' }]);
    expect(f.lines()).toHaveLength(1);
  });
});

describe('crash safety', () => {
  it('processes a message exactly once when the server is SIGKILLed right after 250', async () => {
    const f = fixture();
    const first = await startMailroomProcess({ config, env: f.env });
    const id = await sendTo(first.smtpPort, 'slow@example.com', 'Crash me');
    first.child.kill('SIGKILL');
    await first.exited;
    expect(f.lines()).toEqual([]); // killed before the slow handler finished

    const second = await startMailroomProcess({ config, env: f.env, dataDir: first.dataDir });
    try {
      const detail = await waitFor(async () => {
        const m = await getJson<MessageDetail>(`${second.api}/api/messages/${id}`);
        return m.status === 'processed' ? m : null;
      }, 'recovered message processed');
      expect(detail.deliveries.map((d) => d.status)).toEqual(['delivered', 'delivered']);
      const box = await getJson<{ messages: MessageSummary[] }>(`${second.api}/api/messages?mailbox=slow`);
      expect(box.messages.map((m) => m.id)).toEqual([id]);
      expect(f.lines()).toHaveLength(1);
    } finally {
      await second.stop();
    }
    // A third start finds nothing left to do: still exactly one effect.
    const third = await startMailroomProcess({ config, env: f.env, dataDir: first.dataDir });
    await third.stop();
    expect(f.lines()).toHaveLength(1);
  });
});
