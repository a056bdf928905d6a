import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import type { Browser, Page } from 'playwright-core';
import { type MailroomProcess, projectRoot, startMailroomProcess } from '../support/mailroom-process.ts';
import { launchChromium, type Receiver, startReceiver } from './browser.ts';

/** Generous waits: a loaded 2-core machine runs these (the one timed wait is the 2 s arrival). */
export const WAIT = { timeout: 20_000 };

export const PIXEL_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

export interface MailToSend {
  to: string;
  subject: string;
  text: string;
  html?: string;
  attachments?: Array<{ filename: string; content: Buffer | string; contentType: string; cid?: string }>;
}

/** A real `mailroom dev` (test/browser/page.config.ts), its webhook receiver, and headless Chromium. */
export interface PageFixture {
  mr: MailroomProcess;
  receiver: Receiver;
  browser: Browser;
  /** The file whose existence fixes the `orders` handler. */
  flagFile: string;
  /** Sends over SMTP; resolves after the 250. */
  sendMail(mail: MailToSend): Promise<void>;
  /** A new page on `/`, ready (first list shown) and live (event stream open); dialogs are accepted. */
  openPage(viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

export async function startPageFixture(): Promise<PageFixture> {
  const receiver = await startReceiver();
  const flagFile = join(mkdtempSync(join(tmpdir(), 'mailroom-page-')), 'orders-fixed');
  const mr = await startMailroomProcess({
    config: join(projectRoot, 'test/browser/page.config.ts'),
    env: { PAGE_TEST_FLAG: flagFile, PAGE_TEST_WEBHOOK: `${receiver.url}/hook` },
  });
  const browser = await launchChromium().catch(async (err) => {
    await mr.stop();
    await receiver.close();
    throw err;
  });
  return {
    mr,
    receiver,
    browser,
    flagFile,
    async sendMail(mail) {
      const transport = createTransport({
        host: '127.0.0.1',
        port: mr.smtpPort,
        secure: false,
        ignoreTLS: true,
      });
      try {
        await transport.sendMail({ from: 'Ada Sender <ada@sender.test>', ...mail });
      } finally {
        transport.close();
      }
    },
    async openPage(viewport = { width: 1280, height: 900 }) {
      const page = await browser.newPage({ viewport });
      page.on('dialog', (dialog) => void dialog.accept());
      await page.goto(`${mr.api}/`);
      await page.locator('body[data-ready="1"]').waitFor(WAIT);
      await page.locator('#live.on').waitFor(WAIT);
      return page;
    },
    async close() {
      await browser.close();
      await mr.stop();
      await receiver.close();
    },
  };
}

export const row = (page: Page, subject: string) => page.locator('#rows .row', { hasText: subject });

/** Clicks the row with this subject and waits for the message view. */
export async function openMessage(page: Page, subject: string): Promise<void> {
  await row(page, subject).click();
  await page.locator('#view .subject', { hasText: subject }).waitFor(WAIT);
}
