import { type CommandArgs, defineCommand, type OptionSpec } from '../command.ts';

const options = {
  config: {
    type: 'string',
    value: 'F',
    help: 'the config file (default: $MAILROOM_CONFIG, else ./mailroom.config.ts); its retention is the default',
  },
  data: {
    type: 'string',
    value: 'DIR',
    help: "the data folder (default: the config's dataDir, .mailroom)",
  },
  'older-than': {
    type: 'string',
    value: 'AGE',
    help: 'delete messages received longer ago than this: 30d, 12h, 90m (instead of retention.maxAgeDays)',
  },
  keep: {
    type: 'string',
    value: 'N',
    help: 'keep only the newest N messages (instead of retention.maxMessages)',
  },
  'dry-run': { type: 'boolean', help: 'count what would be deleted; delete nothing' },
} as const satisfies Record<string, OptionSpec>;

/** What `mailroom prune` runs with. */
export type PruneArgs = CommandArgs<typeof options>;

export const prune = defineCommand({
  name: 'prune',
  usage: 'mailroom prune [--config F] [--data .mailroom] [--older-than 30d] [--keep N] [--dry-run]',
  summary: 'delete old messages, their raw mail and the attachments no kept message uses',
  description:
    "Applies the config's retention (or the limits given here, which replace it) to the local data folder " +
    'once: messages received before the age limit or beyond the newest N are deleted with every record, ' +
    'their raw mail, and then each stored attachment that no remaining message references and that was ' +
    'not used within retention.attachmentGraceHours (default 1). Messages still being processed are ' +
    'never deleted. Safe while `mailroom dev` or `mailroom smtp` runs on the same folder. Prints one line ' +
    'per kind with counts and bytes.',
  options,
  positionals: { what: 'no arguments', min: 0, max: 0 },
  run: async (args) => (await import('./prune.ts')).pruneCommand(args),
});
