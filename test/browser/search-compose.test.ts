/**
 * The dev page's search (`GET /api/messages?q=`) and compose (`POST /api/compose`, `GET /api/route`) in
 * real headless Chromium against a real `mailroom dev`.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot } from './browser.ts';
import { type PageFixture, row, startPageFixture, WAIT } from './fixture.ts';

let fx: PageFixture;
let page: Page;

beforeAll(async () => {
  fx = await startPageFixture();
  page = await fx.openPage();
  await fx.sendMail({ to: 'support@example.com', subject: 'Live arrival', text: 'Hello.' });
  await row(page, 'Live arrival').waitFor(WAIT);
}, 120_000);

afterAll(async () => {
  await fx?.close();
});

describe('the dev page in Chromium: search and compose', () => {
  it('search narrows the list to the one matching message', async () => {
    await fx.sendMail({ to: 'sales@example.com', subject: 'Wildlife report', text: 'A quokka was seen.' });
    await fx.sendMail({ to: 'sales@example.com', subject: 'Quarterly numbers', text: 'Revenue went up.' });
    await row(page, 'Quarterly numbers').waitFor(WAIT);
    expect(await page.locator('#rows .row').count()).toBeGreaterThanOrEqual(3);
    await page.keyboard.press('Escape');
    await page.keyboard.press('/');
    await page.keyboard.type('quokka');
    // Polled from the test: the page's CSP (no eval) refuses waitForFunction's string.
    await expect.poll(() => page.locator('#rows .row').count(), WAIT).toBe(1);
    expect(await page.locator('#rows .row .subject').allTextContents()).toEqual(['Wildlife report']);
    await screenshot(page, 'search');
    await page.locator('#search').fill('');
    await row(page, 'Live arrival').waitFor(WAIT);
  });

  it('composes a message with an attachment that is delivered', async () => {
    await page.locator('#compose-open').click();
    await page.locator('#compose-to').fill('sales@example.com');
    await page.locator('#compose-checks li.ok', { hasText: 'sales@example.com' }).waitFor(WAIT);
    await page.locator('#compose-subject').fill('Composed with a file');
    await page.locator('#compose-text').fill('See the attached report.');
    await page.locator('#compose-attachments').setInputFiles({
      name: 'report.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('a,b\n1,2\n'),
    });
    await page.locator('#compose-send').click();
    await page.locator('#view .subject', { hasText: 'Composed with a file' }).waitFor(WAIT);
    await page.locator('.delivery-delivered[data-route="sales"]').waitFor(WAIT);
    expect(await page.locator('.attachment a').allTextContents()).toEqual(['report.csv']);
    await screenshot(page, 'composed');
  });
});
