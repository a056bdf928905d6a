import { type CommandArgs, defineCommand, type OptionSpec } from '../command.ts';

const options = {
  auth: { type: 'boolean', help: 'also check SPF, DKIM, DMARC and ARC' },
  ip: { type: 'string', value: 'A', help: "the SMTP client's IP address, for SPF (needs --auth)" },
  helo: { type: 'string', value: 'H', help: 'the HELO/EHLO name, for SPF (needs --auth)' },
  'mail-from': { type: 'string', value: 'M', help: 'the envelope sender, for SPF (needs --auth)' },
  dns: {
    type: 'string',
    value: 'zone.json',
    help: 'answer every DNS question from this zone file (or $MAILROOM_DNS_ZONE; needs --auth)',
  },
} as const satisfies Record<string, OptionSpec>;

/** What `mailroom parse` runs with. */
export type ParseArgs = CommandArgs<typeof options>;

export const parse = defineCommand({
  name: 'parse',
  usage:
    'mailroom parse <file.eml|-> [file.eml…] [--auth [--ip A] [--helo H] [--mail-from M] [--dns zone.json]]',
  summary: 'print the parsed message as JSON (NDJSON with a "file" field for several files)',
  description:
    'Prints the parsed message as JSON (- reads stdin); malformed mail is still parsed, with what was wrong ' +
    'in "problems". With several files, one JSON object per line, each with a "file" field, in the order ' +
    'given. With --auth, each object also has "auth": the SPF, DKIM, DMARC and ARC verdicts.',
  options,
  positionals: { what: 'a file to parse (or - for stdin)', min: 1, max: Number.POSITIVE_INFINITY },
  run: async (args) => (await import('./parse.ts')).parseCommand(args),
});
