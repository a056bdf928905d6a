import { defineMailroom, handler, mailbox } from 'mailroom';
import { onOrder } from './handlers/orders.js';

// What Mailroom does with mail for {{domain}}: `npm run dev` serves it on this machine, `npm test` runs it in
// memory (test/mailroom.test.ts), and the CDK app (cdk/app.ts) deploys it to your AWS account.
export default defineMailroom({
  domains: ['{{domain}}'],
  routes: [
    // support@{{domain}} (and support+anything@{{domain}}) → mailbox `support`, listed by the dev web page.
    { name: 'support', match: 'support@{{domain}}', action: mailbox('support') },
    // orders+4711@{{domain}} → your handler, with ctx.params.id = '4711'.
    { name: 'orders', match: 'orders+{id}@{{domain}}', action: handler(onOrder) },
    // Any other recipient at {{domain}} has no route: refused `550 5.1.1` while the sender is still connected.
  ],
});
