/**
 * The dev page in real headless Chromium against a real `mailroom dev` (`npm run test:browser`): live
 * arrival over SMTP, the message view (sandboxed HTML, attachments, verdicts, deliveries), search, a failing
 * handler fixed and replayed, compose with an attachment, and the phone-width layout.
 */
import { writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { screenshot } from './browser.ts';
import { openMessage, type PageFixture, PIXEL_PNG, row, startPageFixture, WAIT } from './fixture.ts';

let fx: PageFixture;
let page: Page;

beforeAll(async () => {
  fx = await startPageFixture();
  page = await fx.openPage();
  // The server's first message loads its parsing and authentication modules (compiled on first use when
  // run from source): that one-time cost is the server's start, not what the 2 s test below measures.
  await fx.sendMail({
    to: 'support@example.com',
    subject: 'Warm-up',
    text: 'Warm-up.',
    html: '<p>Warm-up.</p>',
    attachments: [{ filename: 'warm.txt', content: 'warm', contentType: 'text/plain' }],
  });
  await row(page, 'Warm-up').locator('.status-processed').waitFor(WAIT);
}, 120_000);

afterAll(async () => {
  await fx?.close();
});

describe('the dev page in Chromium', () => {
  it('shows a message sent over SMTP without a reload within 2 s of the 250', async () => {
    await page.evaluate('window.notReloaded = true');
    await fx.sendMail({
      to: 'support@example.com, hooks@example.com',
      subject: 'Live arrival',
      text: 'Hello from the text part.',
      html: `<p id="script-output">Hello from the HTML part.</p><img id="cid-image" src="cid:logo@mailroom.test"><script>
        document.body.setAttribute('data-script-ran', '1');
        document.getElementById('script-output').textContent = 'script ran';
        fetch('${fx.receiver.url}/script-ran');
        try { parent.document.title = 'script ran'; } catch (e) {}
      </script>`,
      attachments: [
        { filename: 'notes.txt', content: 'some notes', contentType: 'text/plain' },
        { filename: 'pixel.png', content: PIXEL_PNG, contentType: 'image/png' },
        { filename: 'logo.png', content: PIXEL_PNG, contentType: 'image/png', cid: 'logo@mailroom.test' },
      ],
    });
    const sentAt = Date.now();
    await row(page, 'Live arrival').waitFor({ timeout: 2_000 });
    // Two messages: no further page to load.
    expect(await page.locator('#more').isVisible()).toBe(false);
    console.log(`figure: SMTP 250 → row shown in ${Date.now() - sentAt} ms`);
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    await screenshot(page, 'live-list');
  });

  it('opens it: text, sandboxed HTML whose script did not run, attachments, verdicts and deliveries', async () => {
    await openMessage(page, 'Live arrival');
    const frame = page.locator('iframe.html-frame');
    expect(await frame.getAttribute('sandbox')).toBe('');
    const inside = page.frameLocator('iframe.html-frame');
    await inside.locator('#script-output', { hasText: 'Hello from the HTML part.' }).waitFor(WAIT);
    expect(await inside.locator('body[data-script-ran]').count()).toBe(0);
    // The inline image the HTML references by cid: loads from the message's attachment inside the sandbox.
    await expect
      .poll(
        () =>
          inside
            .locator('#cid-image')
            .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
        WAIT,
      )
      .toBe(1);
    expect(await page.title()).toBe('Mailroom');

    await page.locator('.tabs button[data-tab="text"]').click();
    await page.locator('.tab-body pre', { hasText: 'Hello from the text part.' }).waitFor(WAIT);
    const attachments = await page.locator('.attachment a').allTextContents();
    expect(attachments).toEqual(expect.arrayContaining(['notes.txt', 'pixel.png']));
    const notes = await page.locator('.attachment a', { hasText: 'notes.txt' }).getAttribute('href');
    const download = await page.request.get(`${fx.mr.api}${notes}`);
    expect(download.status()).toBe(200);
    expect(await download.text()).toBe('some notes');
    expect(await page.locator('.attachment.related').allTextContents()).toEqual([
      expect.stringContaining('shown in the HTML'),
    ]);
    const thumb = page.locator('.attachment:not(.related) img.thumb');
    await thumb.scrollIntoViewIfNeeded();
    await expect
      .poll(
        () => page.evaluate("document.querySelector('.attachment:not(.related) img.thumb').naturalWidth"),
        WAIT,
      )
      .toBe(1);
    const verdicts = await page.locator('.auth li').allTextContents();
    expect(verdicts.some((v) => v.startsWith('SPF: '))).toBe(true);
    expect(verdicts).toContain('DKIM: none (the message is not signed)');
    expect(verdicts.some((v) => v.startsWith('DMARC: '))).toBe(true);

    await page.locator('.delivery-delivered[data-route="support"]').waitFor(WAIT);
    await page.locator('.delivery-delivered[data-route="hooks"]').waitFor(WAIT);
    expect(await page.locator('.trace li').count()).toBeGreaterThan(0);
    // The routing decision per recipient, computed with the current config.
    await page.locator('.routing li.ok', { hasText: '→ support' }).waitFor(WAIT);
    await page.locator('.routing li.ok', { hasText: '→ hooks' }).waitFor(WAIT);
    expect(fx.receiver.hits.filter((h) => h.path === '/hook' && h.method === 'POST')).toHaveLength(1);
    expect(fx.receiver.hits.filter((h) => h.path.startsWith('/script-ran'))).toHaveLength(0);
    await screenshot(page, 'message-view');
  });

  it("shows a failing handler's error, and Replay after the fix turns the delivery delivered", async () => {
    await fx.sendMail({ to: 'orders@example.com', subject: 'Order 42', text: 'Please ship.' });
    await row(page, 'Order 42').waitFor(WAIT);
    await openMessage(page, 'Order 42');
    const delivery = page.locator('.delivery[data-route="orders"]');
    await page
      .locator('.delivery-failed[data-route="orders"] .error', { hasText: 'orders backend is down' })
      .waitFor(WAIT);
    await screenshot(page, 'delivery-failed');

    writeFileSync(fx.flagFile, 'fixed');
    await delivery.locator('button', { hasText: 'Replay delivery' }).click();
    await page.locator('.delivery-delivered[data-route="orders"]').waitFor(WAIT);
    await row(page, 'Order 42').locator('.status-processed').waitFor(WAIT);
    await screenshot(page, 'delivery-replayed');
  });

  it('keyboard: j/k move, Enter opens, / focuses search, Delete deletes after confirmation', async () => {
    await page.keyboard.press('Escape'); // closes the view
    await page.locator('#view').waitFor({ state: 'hidden', ...WAIT });
    const subjects = await page.locator('#rows .row .subject').allTextContents();
    expect(subjects[0]).toBe('Order 42');
    for (const key of ['j', 'j', 'k']) await page.keyboard.press(key);
    expect(await page.locator('#rows .row.cursor .subject').textContent()).toBe('Order 42');
    await page.keyboard.press('Enter');
    await page.locator('#view .subject', { hasText: 'Order 42' }).waitFor(WAIT);
    await page.keyboard.press('/');
    expect(await page.evaluate('document.activeElement.id')).toBe('search');
    await page.keyboard.press('Escape'); // leaves the search box
    await page.keyboard.press('Delete'); // the dialog is accepted
    await expect.poll(() => row(page, 'Order 42').count(), WAIT).toBe(0);
    expect(await page.locator('#rows .row').count()).toBe(subjects.length - 1);
    const listed = (await (await fetch(`${fx.mr.api}/api/messages`)).json()) as {
      messages: Array<{ subject: string | null }>;
    };
    expect(listed.messages.map((m) => m.subject)).not.toContain('Order 42'); // deleted on the server
  });

  it('at 390 px wide shows subject and status without horizontal scroll', async () => {
    const phone = await fx.openPage({ width: 390, height: 844 });
    try {
      const first = phone.locator('#rows .row').first();
      await first.waitFor(WAIT);
      for (const part of ['.subject', '.status']) {
        const box = await first.locator(part).boundingBox();
        expect(box, part).not.toBeNull();
        expect(box!.x).toBeGreaterThanOrEqual(0);
        expect(box!.x + box!.width).toBeLessThanOrEqual(390);
        expect(box!.width).toBeGreaterThan(10);
      }
      expect(await phone.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      await screenshot(phone, 'phone-list');
      await openMessage(phone, 'Live arrival');
      expect(await phone.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      await screenshot(phone, 'phone-message');
    } finally {
      await phone.close();
    }
  });
});
