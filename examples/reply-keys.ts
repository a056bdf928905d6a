import { DEV_REPLY_KEY, type ReplyAddressOptions } from 'mailroom';

/**
 * Keys that sign reply addresses. Production reads the key from MAILROOM_REPLY_KEY (the CDK app fills it from
 * a Secrets Manager secret); without it the public DEV_REPLY_KEY signs, which `mailroom dev` accepts and
 * `mailroom smtp`, the Docker image and the processing Lambda refuse at start.
 * Rotate by adding a new key id and making it current; old addresses verify while their key is listed.
 * Addresses expire after 30 days unless `expiresInSeconds` says otherwise.
 */
export const replyKeys: ReplyAddressOptions = {
  keys: { a: process.env.MAILROOM_REPLY_KEY || DEV_REPLY_KEY },
  currentKeyId: 'a',
};
