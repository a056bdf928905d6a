import { type CommandArgs, defineCommand, type OptionSpec } from '../command.ts';

const options = {
  failed: { type: 'boolean', help: 'every message whose processing failed' },
  config: {
    type: 'string',
    value: 'F',
    help: 'the config file (default: $MAILROOM_CONFIG, else ./mailroom.config.ts)',
  },
  data: {
    type: 'string',
    value: 'DIR',
    help: "the data folder of `mailroom dev` (default: the config's dataDir, .mailroom)",
  },
  'http-port': {
    type: 'string',
    value: 'P',
    help: 'the port of a running `mailroom dev` to ask first (default 8025)',
  },
  stack: {
    type: 'string',
    value: 'NAME',
    help: 'replay on AWS: the deployed stack whose outputs name the table and the raw bucket',
  },
  table: { type: 'string', value: 'T', help: 'replay on AWS: the DynamoDB table (instead of the output)' },
  bucket: { type: 'string', value: 'B', help: 'replay on AWS: the raw S3 bucket (instead of the output)' },
  region: { type: 'string', value: 'R', help: "the AWS region (default: the SDK's: $AWS_REGION, profile)" },
  since: {
    type: 'string',
    value: 'WHEN',
    help: 'with --failed on AWS: only messages received since an ISO date or a duration ago (24h, 7d)',
  },
} as const satisfies Record<string, OptionSpec>;

/** What `mailroom replay` runs with. */
export type ReplayArgs = CommandArgs<typeof options>;

export const replay = defineCommand({
  name: 'replay',
  usage:
    'mailroom replay <id> | --failed [--config F] [--data .mailroom] [--http-port 8025] ' +
    '[--stack NAME | --table T --bucket B] [--region R] [--since 24h]',
  summary: 'run a message, or every failed one, again with the current code and config',
  description:
    'Runs the deliveries of a stored message (or of every failed message) again with the current code and ' +
    'config, and prints each result as a JSON line. When `mailroom dev` is running it asks that server (so ' +
    'handlers run where the mail lives); otherwise it replays here against the data folder, with the config ' +
    'found the way `mailroom dev` finds it. With --stack (or --table and --bucket) it replays a deployment ' +
    "on AWS instead, here, with your AWS credentials: the processing Lambda's own steps on its DynamoDB " +
    'records and S3 objects; deliveries already delivered are skipped, a processed message is left alone. ' +
    'Exits 1 when a replay failed.',
  options,
  positionals: { what: 'one message id or --failed', min: 0, max: 1 },
  run: async (args) => (await import('./replay.ts')).replayCommand(args),
});
