/**
 * `npm run bench:page`: the dev page's weight and speed in headless Chromium (/usr/bin/chromium) against a
 * real `mailroom dev`. Prints JSON:
 * - `firstLoadBytes`: bytes transferred on a first (cold cache) load of `/` with an empty store, summed
 *   from Chromium's Network.loadingFinished events (encodedDataLength: headers + compressed bodies), and
 *   the same with 1,000 messages stored (the first page of 100 summaries included);
 * - `ms.listReady`: navigation start → first page of the 1,000 messages rendered (the list usable);
 * - `ms.thousandRows`: navigation start → the 1,000th row rendered ("load more" clicked until it is).
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../test/browser/browser.ts';
import { projectRoot, startMailroomProcess } from '../test/support/mailroom-process.ts';

const COUNT = 1_000;
const CONCURRENCY = 8;

function message(n: number): string {
  return [
    `From: Sender ${n} <sender${n}@bench.test>`,
    'To: support@example.com',
    `Subject: Bench message ${n} about order ${1000 + n}`,
    `Message-ID: <bench-${n}@bench.test>`,
    '',
    `Hello, this is message ${n}. Please look at order ${1000 + n}.`,
    '',
  ].join('\r\n');
}

async function insertMessages(api: string): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < COUNT) {
      const n = next++;
      const res = await fetch(`${api}/api/messages?from=sender${n}@bench.test&to=support@example.com`, {
        method: 'POST',
        headers: { 'content-type': 'message/rfc822' },
        body: message(n),
      });
      if (res.status !== 201) throw new Error(`insert ${n}: ${res.status} ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

/** Bytes Chromium received for a cold load of `/` until the list is ready. */
async function firstLoadBytes(browser: Browser, api: string): Promise<{ bytes: number; requests: number }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  let bytes = 0;
  let requests = 0;
  cdp.on('Network.loadingFinished', (event) => {
    bytes += event.encodedDataLength;
    requests++;
  });
  await page.goto(`${api}/`);
  await page.locator('body[data-ready="1"]').waitFor({ timeout: 60_000 });
  await page.waitForLoadState('networkidle').catch(() => {}); // the event stream keeps one request open
  await context.close();
  return { bytes, requests };
}

async function timeThousandRows(
  browser: Browser,
  api: string,
): Promise<{ listReady: number; thousandRows: number }> {
  const page = await browser.newPage();
  await page.goto(`${api}/`);
  await page.locator('body[data-ready="1"]').waitFor({ timeout: 60_000 });
  const listReady = Number(await page.evaluate('performance.now()'));
  const thousandRows = Number(
    await page.evaluate(`(async () => {
      const more = document.getElementById('more');
      while (document.querySelectorAll('#rows .row').length < ${COUNT}) {
        if (more.hidden) throw new Error('no more pages before ${COUNT} rows');
        const before = document.querySelectorAll('#rows .row').length;
        more.click();
        while (document.querySelectorAll('#rows .row').length === before) await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => requestAnimationFrame(() => r()));
      return performance.now();
    })()`),
  );
  await page.close();
  return { listReady, thousandRows };
}

const mr = await startMailroomProcess({ config: join(projectRoot, 'examples/mailroom.config.ts') });
const browser = await launchChromium();
try {
  // Warm the server (the first request bundles the page in memory when run from source).
  await fetch(`${mr.api}/`).then((r) => r.text());
  const empty = await firstLoadBytes(browser, mr.api);
  await insertMessages(mr.api);
  const full = await firstLoadBytes(browser, mr.api);
  const ms = await timeThousandRows(browser, mr.api);
  console.log(
    JSON.stringify(
      {
        firstLoadBytes: { emptyStore: empty, with1000Messages: full },
        ms: { listReady: Math.round(ms.listReady), thousandRows: Math.round(ms.thousandRows) },
        messages: COUNT,
      },
      null,
      2,
    ),
  );
} finally {
  await browser.close();
  await mr.stop();
}
