import type { ReplyAddressOptions } from '../lib/index.ts';

/**
 * Keys that sign reply addresses. Set MAILROOM_REPLY_KEY in production; the fallback is for local development only.
 * Rotate by adding a new key id and making it current; old addresses verify while their key is listed.
 */
export const replyKeys: ReplyAddressOptions = {
  keys: { a: process.env.MAILROOM_REPLY_KEY ?? 'dev-only-reply-key-change-me' },
  currentKeyId: 'a',
};
