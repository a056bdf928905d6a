import { type CommandArgs, defineCommand, type OptionSpec } from '../command.ts';

const options = {
  rcpt: { type: 'string', multiple: true, value: 'ADDR', help: 'an envelope recipient (repeat for several)' },
  from: {
    type: 'string',
    value: 'ADDR',
    help: "the envelope sender (default: the message's From: address)",
  },
  config: {
    type: 'string',
    value: 'F',
    help: 'the config file (default: $MAILROOM_CONFIG, else ./mailroom.config.ts)',
  },
} as const satisfies Record<string, OptionSpec>;

/** What `mailroom route` runs with. */
export type RouteArgs = CommandArgs<typeof options>;

export const route = defineCommand({
  name: 'route',
  usage: 'mailroom route <file.eml> --rcpt ADDR [--rcpt ADDR…] [--from ADDR] [--config F]',
  summary: 'print the routing decision per recipient, delivering nothing',
  description:
    'Prints, as JSON, what the config does with the message for each recipient: whether SMTP accepts it ' +
    'at RCPT time (or the refusal), and the routes, parameters and actions that match. Nothing is ' +
    'delivered and no handler runs.',
  options,
  positionals: { what: 'one message file', min: 1, max: 1 },
  run: async (args) => (await import('./route.ts')).routeCommand(args),
});
