import { type CommandArgs, defineCommand, type OptionSpec } from '../command.ts';

const options = {
  domain: {
    type: 'string',
    value: 'D',
    help: 'the domain its routes receive mail for (default example.com)',
  },
  force: {
    type: 'boolean',
    help: 'write into a folder that is not empty (files of the same names are replaced)',
  },
} as const satisfies Record<string, OptionSpec>;

/** What `mailroom init` runs with. */
export type InitArgs = CommandArgs<typeof options>;

export const init = defineCommand({
  name: 'init',
  usage: 'mailroom init [dir] [--domain example.com] [--force]',
  summary: 'write a starter project: config, handler, test, CDK app',
  description:
    'Writes a starter project into dir (default: the current folder): mailroom.config.ts with a mailbox route ' +
    'and a handler route, the handler, a vitest test using mailroom/testing, a CDK app (cdk/app.ts, ' +
    'cdk.json), package.json (scripts dev, test, synth, deploy), tsconfig.json, .gitignore and a README.',
  options,
  positionals: { what: 'a folder', min: 0, max: 1 },
  run: async (args) => (await import('./init.ts')).initCommand(args),
});
