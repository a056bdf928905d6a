import { defineCommand } from '../command.ts';

export const hashPassword = defineCommand({
  name: 'hash-password',
  usage: 'mailroom hash-password < password-file',
  summary: 'print the scrypt hash of the password on stdin, for submission.users',
  description:
    "Reads one password from stdin (e.g. printf %s 'the password' | mailroom hash-password) and prints " +
    'its scrypt hash for submission.users. The password is never taken from the command line, where ps ' +
    'and shell history would keep it.',
  options: {},
  positionals: { what: 'no arguments', min: 0, max: 0 },
  run: async () => (await import('./hash-password.ts')).hashPasswordCommand(),
});
