// What `npm start` serves. `mailroom` is this repository's own sources here (tsconfig paths, vitest aliases,
// and loadConfig, which maps it to the running Mailroom), as it is the installed package in your project.
import { defineMailroom, handler, mailbox } from 'mailroom';
import { storeReply } from './handlers/store-reply.ts';
import { replyKeys } from './reply-keys.ts';

export default defineMailroom({
  domains: ['example.com'],
  replyAddress: replyKeys,
  routes: [
    // support@example.com, and support+anything@example.com with params.tag = 'anything'
    { name: 'support', match: 'support@example.com', action: mailbox('support') },
    // reply+<signed token>@example.com → keep only the new reply text. The router verifies the token with
    // replyAddress.keys: a forged, damaged or expired one is refused `550 5.7.1` at RCPT, never handled.
    {
      name: 'replies',
      match: 'reply+{token}@example.com',
      replyToken: { param: 'token' },
      action: handler(storeReply),
    },
    { name: 'postmaster', match: 'postmaster@example.com', action: mailbox('postmaster') },
    // Every other @example.com recipient has no route: refused `550 5.1.1` at RCPT. Other domains: `550 5.7.1`.
  ],
});
