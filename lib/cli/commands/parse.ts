import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseMessage } from '../../message/index.ts';
import { parseCommandArgs } from '../args.ts';
import { CliError } from '../errors.ts';

const usage = 'mailroom parse <file.eml|-> [file.eml…]';

/** `mailroom parse`: one ParsedMessage as JSON; with several files, NDJSON with a `file` field. */
export async function parseCommand(argv: string[]): Promise<number> {
  const { positionals } = parseCommandArgs(argv, {}, usage);
  if (positionals.length === 0) throw new CliError(`give a file to parse\nusage: ${usage}`);
  for (const file of positionals) {
    if (file === '-') continue;
    if (!existsSync(file)) throw new CliError(`no such file: ${file}`);
    if (statSync(file).isDirectory()) throw new CliError(`${file} is a directory, not a message file`);
  }
  if (positionals.length === 1) {
    const parsed = await parseMessage(await readInput(positionals[0]!));
    process.stdout.write(`${JSON.stringify(parsed, null, 2)}\n`);
    return 0;
  }
  for (const file of positionals) {
    const parsed = await parseMessage(await readInput(file));
    const ok = process.stdout.write(`${JSON.stringify({ file, ...parsed })}\n`);
    if (!ok) await new Promise((r) => process.stdout.once('drain', r));
  }
  return 0;
}

async function readInput(file: string): Promise<Buffer> {
  if (file !== '-') return readFile(file);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
