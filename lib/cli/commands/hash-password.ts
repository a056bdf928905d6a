import { hashPassword } from '../../submission/index.ts';
import { CliError } from '../errors.ts';

/** Reads all of stdin as text. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `mailroom hash-password`: reads a password from stdin (one line) and prints its scrypt hash for
 * `submission.users`. The password is never taken from the command line, where `ps` and shell history
 * would keep it.
 */
export async function hashPasswordCommand(): Promise<number> {
  const input = await readStdin();
  const password = input.replace(/\r?\n$/, '');
  if (!password) throw new CliError('no password on stdin');
  process.stdout.write(`${await hashPassword(password)}\n`);
  return 0;
}
