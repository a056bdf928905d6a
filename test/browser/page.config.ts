// The browser tests' config: mailboxes, a handler that fails until a flag file exists (so a test can fix it
// and replay), and a webhook to the test's local receiver.
import { existsSync } from 'node:fs';
import { defineMailroom, handler, mailbox, webhook } from '../../lib/index.ts';

const flagFile = process.env.PAGE_TEST_FLAG!;
const webhookUrl = process.env.PAGE_TEST_WEBHOOK!;

export default defineMailroom({
  domains: ['example.com'],
  delivery: { attempts: 1, backoffMs: 20, maxBackoffMs: 100 },
  routes: [
    { name: 'support', match: 'support@example.com', action: mailbox('support') },
    { name: 'sales', match: 'sales@example.com', action: mailbox('sales') },
    {
      name: 'orders',
      match: 'orders@example.com',
      action: handler(async function recordOrder() {
        if (!existsSync(flagFile)) throw new Error('orders backend is down (flag file missing)');
      }),
    },
    { name: 'hooks', match: 'hooks@example.com', action: webhook(webhookUrl, { timeoutMs: 5_000 }) },
  ],
});
