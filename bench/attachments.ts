/**
 * Attachment extraction memory benchmark: peak RSS growth while a message carrying a 20 MB PDF is parsed
 * with its attachment streamed into a `LocalAttachmentStore` (the pipeline's parse step), in a fresh child
 * process so that nothing else is in its heap.
 *
 *   npm run bench:attachments [-- --mb 20]
 *
 * Without `--mb`, runs 5, 20 and 35 MB (each in its own child): the growth stays about the same whatever
 * the size (chunks in flight and garbage the GC has not collected yet), which is what "never whole in
 * memory" looks like from outside; the raw message itself is allocated before the baseline.
 *
 * The child builds the raw message (held once, as the pipeline holds it), settles, takes the baseline RSS,
 * then parses with the store as the sink while sampling RSS every millisecond the event loop lets it. It
 * reports the raw message size, the peak growth over the baseline, and checks the stored bytes' SHA-256.
 * For comparison it then parses the same message without a sink (hashing only).
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseMessage } from '../lib/message/index.ts';
import { LocalAttachmentStore } from '../lib/store/index.ts';

const { values } = parseArgs({
  options: { mb: { type: 'string' }, child: { type: 'boolean', default: false } },
});
const sizes = values.mb === undefined ? [5, 20, 35] : [Math.max(1, Number(values.mb) || 20)];

function message(pdf: Buffer): Buffer {
  const head = [
    'From: Ada <ada@sender.test>',
    'To: files@example.com',
    'Subject: Invoice',
    'Date: Sun, 06 Dec 2026 10:00:00 +0000',
    'Message-ID: <bench@sender.test>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    'Invoice attached.',
    '--b',
    'Content-Type: application/pdf; name="invoice.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    '',
  ].join('\r\n');
  const base64 = pdf.toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.concat([Buffer.from(head), Buffer.from(base64), Buffer.from('\r\n--b--\r\n')]);
}

async function peakDuring(work: () => Promise<unknown>): Promise<{ baseline: number; peak: number }> {
  globalThis.gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 1);
  await work();
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { baseline, peak };
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

async function child(megabytes: number): Promise<void> {
  const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(megabytes * 1024 * 1024)]);
  const raw = message(pdf);
  const expected = createHash('sha256').update(pdf).digest('hex');
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-bench-att-'));
  try {
    const store = new LocalAttachmentStore(dir);
    await store.ready();
    let stored = false;
    await parseMessage(message(Buffer.from('warm-up')), undefined, { attachments: { sink: store } });
    const withStore = await peakDuring(async () => {
      const m = await parseMessage(raw, undefined, { attachments: { sink: store } });
      stored = m.attachments[0]?.stored === true && m.attachments[0]?.sha256 === expected;
    });
    const hashOnly = await peakDuring(() => parseMessage(raw));
    const onDisk = createHash('sha256');
    for await (const chunk of (await store.open(expected)) ?? []) onDisk.update(chunk as Buffer);
    console.log(`attachment: ${mib(pdf.length)} PDF; raw message: ${mib(raw.length)} (${raw.length} bytes)`);
    console.log(
      `peak RSS growth, streamed into LocalAttachmentStore: ${mib(withStore.peak - withStore.baseline)}`,
    );
    console.log(
      `peak RSS growth, parsed without a store (hash only): ${mib(hashOnly.peak - hashOnly.baseline)}`,
    );
    console.log(
      `stored: ${stored}; stored bytes' SHA-256 equals the original: ${onDisk.digest('hex') === expected}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (values.child) {
  await child(sizes[0]!);
} else {
  for (const megabytes of sizes) {
    const run = spawnSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', import.meta.filename, '--child', '--mb', String(megabytes)],
      { stdio: 'inherit' },
    );
    if (run.status !== 0) process.exit(run.status ?? 1);
  }
}
