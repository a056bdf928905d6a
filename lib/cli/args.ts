import { type ParseArgsConfig, parseArgs } from 'node:util';
import { CliError } from './errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** What {@link parseCommandArgs} returns (named, so that declaration files can refer to it). */
export type ParsedCommandArgs<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
>;

/** `node:util` parseArgs with unknown options and bad values reported as one-line CliErrors. */
export function parseCommandArgs<O extends Options>(
  argv: string[],
  options: O,
  usage: string,
): ParsedCommandArgs<O> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new CliError(`${msg}\nusage: ${usage}`);
  }
}

/** Parses a TCP port option. */
export function portOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new CliError(`--${name} must be a port number (0–65535), got '${value}'`);
  return n;
}
