import { type CommandArgs, defineCommand, type OptionSpec } from '../command.ts';
import { readApiOptions } from './messages.usage.ts';

const options = {
  ...readApiOptions,
  raw: { type: 'boolean', help: 'the stored bytes of the message (message/rfc822)' },
  attachment: {
    type: 'string',
    value: 'N',
    help: 'the bytes of attachment N (its index in parsed.attachments)',
  },
  out: { type: 'string', value: 'FILE', help: 'write the bytes (or the JSON) to FILE instead of stdout' },
} as const satisfies Record<string, OptionSpec>;

/** What `mailroom message` runs with. */
export type MessageArgs = CommandArgs<typeof options>;

export const message = defineCommand({
  name: 'message',
  usage: 'mailroom message ID --stack NAME | --url URL [--region R] [--raw | --attachment N] [--out FILE]',
  summary: 'fetch one stored message of a deployed stack (the read API)',
  description:
    'Fetches one message of a deployed stack through its read API (see `mailroom messages`): its ' +
    'detail as JSON (summary, parsed, auth, trace, deliveries), or with --raw its stored bytes, or with ' +
    '--attachment N the bytes of one attachment (large ones are downloaded from the presigned S3 URL the ' +
    'API redirects to). --out writes them to a file.',
  options,
  positionals: { what: 'one message id', min: 1, max: 1 },
  run: async (args) => (await import('./message.ts')).messageCommand(args),
});
