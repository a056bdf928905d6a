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
} as const satisfies Record<string, OptionSpec>;

/** What `mailroom replay` runs with. */
export type ReplayArgs = CommandArgs<typeof options>;

export const replay = defineCommand({
  name: 'replay',
  usage: 'mailroom replay <id> | --failed [--config F] [--data .mailroom] [--http-port 8025]',
  summary: 'run a message, or every failed one, again with the current code and config',
  description:
    'Runs the deliveries of a stored message (or of every failed message) again with the current code and ' +
    'config, and prints each result as a JSON line. When `mailroom dev` is running it asks that server (so ' +
    'handlers run where the mail lives); otherwise it replays here against the data folder, with the config ' +
    'found the way `mailroom dev` finds it. Exits 1 when a replay failed.',
  options,
  positionals: { what: 'one message id or --failed', min: 0, max: 1 },
  run: async (args) => (await import('./replay.ts')).replayCommand(args),
});
