import { type CommandArgs, defineCommand, type OptionSpec } from '../command.ts';

const options = {
  stack: {
    type: 'string',
    value: 'NAME',
    help: 'the deployed stack whose outputs name the dead-letter queue and the processing queue',
  },
  'dlq-url': { type: 'string', value: 'U', help: 'the dead-letter queue URL (instead of the output)' },
  'queue-url': { type: 'string', value: 'U', help: 'the processing queue URL (instead of the output)' },
  max: { type: 'string', value: 'N', help: 'move at most N messages (default: all of them)' },
  region: { type: 'string', value: 'R', help: "the AWS region (default: the SDK's: $AWS_REGION, profile)" },
} as const satisfies Record<string, OptionSpec>;

/** What `mailroom redrive` runs with. */
export type RedriveArgs = CommandArgs<typeof options>;

export const redrive = defineCommand({
  name: 'redrive',
  usage: 'mailroom redrive --stack NAME | --dlq-url U --queue-url U [--max N] [--region R]',
  summary: "move the dead-letter queue's messages back to the processing queue",
  description:
    'Moves the messages of the dead-letter queue back to the processing queue, where the processing ' +
    'Lambda takes them again (deliveries already delivered are skipped), with your AWS credentials, and ' +
    "prints how many moved. Without --max it starts SQS's own message move task and waits for it; with " +
    '--max, or where the move task is not available, it receives, sends and deletes up to 10 at a time ' +
    '(a message leaves the dead-letter queue only once the processing queue took it). Exits 1 when the ' +
    'move stopped part-way.',
  options,
  positionals: { what: 'no argument', min: 0, max: 0 },
  run: async (args) => (await import('./redrive.ts')).redriveCommand(args),
});
