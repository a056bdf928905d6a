import { type CommandArgs, defineCommand, type OptionSpec } from '../command.ts';

/** The options both read API commands take: where the API is. */
export const readApiOptions = {
  stack: {
    type: 'string',
    value: 'NAME',
    help: 'the deployed stack whose ReadApiUrl output names the read API',
  },
  url: { type: 'string', value: 'URL', help: 'the read API Function URL (instead of --stack)' },
  region: { type: 'string', value: 'R', help: "the AWS region (default: the URL's, else the SDK's)" },
} as const satisfies Record<string, OptionSpec>;

const options = {
  ...readApiOptions,
  mailbox: { type: 'string', value: 'M', help: 'only the messages this mailbox holds' },
  limit: { type: 'string', value: 'N', help: 'at most N messages (default 100, at most 500)' },
  before: { type: 'string', value: 'CURSOR', help: 'the next page: the cursor the previous page printed' },
  json: { type: 'boolean', help: 'print the API response as JSON instead of a table' },
} as const satisfies Record<string, OptionSpec>;

/** What `mailroom messages` runs with. */
export type MessagesArgs = CommandArgs<typeof options>;

export const messages = defineCommand({
  name: 'messages',
  usage:
    'mailroom messages --stack NAME | --url URL [--region R] [--mailbox M] [--limit N] [--before CURSOR] [--json]',
  summary: "list a deployed stack's stored messages (the read API)",
  description:
    "Lists the messages of a deployed stack, newest first, through its read API (MailroomPipeline's " +
    '`readApi`: a Function URL with IAM auth, called with SigV4 and your AWS credentials, which need ' +
    'lambda:InvokeFunctionUrl on it: grantReadApi). Prints a table, and the --before cursor of the next ' +
    'page when there is one; --json prints the response `{ messages, nextCursor }` as it is.',
  options,
  positionals: { what: 'no argument', min: 0, max: 0 },
  run: async (args) => (await import('./messages.ts')).messagesCommand(args),
});
