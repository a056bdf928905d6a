import { type CommandArgs, defineCommand, type OptionSpec } from '../command.ts';

const options = {
  to: { type: 'string', multiple: true, value: 'ADDR', help: 'an envelope recipient (repeat for several)' },
  from: {
    type: 'string',
    value: 'ADDR',
    help: "the envelope sender (default: the message's From: address)",
  },
  host: { type: 'string', value: 'H', help: 'the SMTP server (default 127.0.0.1)' },
  port: { type: 'string', value: 'P', help: 'its port (default 2525)' },
} as const satisfies Record<string, OptionSpec>;

/** What `mailroom send` runs with. */
export type SendArgs = CommandArgs<typeof options>;

export const send = defineCommand({
  name: 'send',
  usage: 'mailroom send <file.eml> --to ADDR [--to ADDR…] [--from ADDR] [--host 127.0.0.1] [--port 2525]',
  summary: 'send a message file over SMTP',
  description:
    'Sends the message file as it is over SMTP (no TLS) with the envelope given, and prints which ' +
    'recipients the server accepted and its reply. Exits 1 when a recipient was refused.',
  options,
  positionals: { what: 'one message file', min: 1, max: 1 },
  run: async (args) => (await import('./send.ts')).sendCommand(args),
});
