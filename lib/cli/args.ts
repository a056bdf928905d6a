import { CliError, UsageError } from './errors.ts';

/**
 * Parses a TCP port given as option `--name` or, for a name in capitals, environment variable `name`.
 * @throws UsageError (option) or CliError (environment variable) for anything but 0–65535.
 */
export function portOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) {
    const isEnv = /^[A-Z_]+$/.test(name);
    const message = `${isEnv ? name : `--${name}`} must be a port number (0–65535), got '${value}'`;
    throw isEnv ? new CliError(message) : new UsageError(message);
  }
  return n;
}
