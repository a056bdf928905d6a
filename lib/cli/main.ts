import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MailroomError, PACKAGE_ROOT } from '../kernel/index.ts';
import { type CommandSpec, commandHelp, parseCommandLine, wrapUsage } from './command.ts';
import { hashPassword } from './commands/hash-password.usage.ts';
import { init } from './commands/init.usage.ts';
import { message } from './commands/message.usage.ts';
import { messages } from './commands/messages.usage.ts';
import { parse } from './commands/parse.usage.ts';
import { prune } from './commands/prune.usage.ts';
import { redrive } from './commands/redrive.usage.ts';
import { replay } from './commands/replay.usage.ts';
import { route } from './commands/route.usage.ts';
import { send } from './commands/send.usage.ts';
import { dev, smtp } from './commands/serve.usage.ts';
import { CliError, UsageError } from './errors.ts';

// Only the commands' specs are imported here; a command's module (smtp-server, mailauth, the AWS SDK …)
// is loaded when that command runs, so `--help` and `--version` start fast.
const specs = [
  init,
  dev,
  parse,
  route,
  send,
  smtp,
  replay,
  redrive,
  messages,
  message,
  prune,
  hashPassword,
] as CommandSpec[];
const commands = new Map(specs.map((spec) => [spec.name, spec]));

function topLevelHelp(): string {
  const lines = specs.map((spec) => `${wrapUsage(spec.usage, 106, '  ')}\n      ${spec.summary}`);
  return `mailroom — inbound email framework

usage: mailroom <command> [options]

Commands:
${lines.join('\n')}
  mailroom --version
      print the version of Mailroom
  mailroom <command> --help, mailroom help <command>
      what a command does, and each of its options

Set MAILROOM_DEBUG=1 for stack traces, MAILROOM_LOG_LEVEL=debug|info|warn|error for logs.
`;
}

/** The running Mailroom's version, from its package.json. */
export function mailroomVersion(): string {
  return (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string })
    .version;
}

function unknownCommand(name: string): number {
  const what = name.startsWith('-')
    ? `unknown option ${name} (a command comes first: mailroom <command> [options])`
    : `unknown command '${name}'`;
  process.stderr.write(`mailroom: ${what}; commands: ${[...commands.keys()].join(', ')}\n`);
  return 2;
}

/** Runs the `mailroom` command; returns the exit code. User mistakes print one line, never a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    if (name && rest.length > 0) {
      const spec = commands.get(rest[0]!);
      if (!spec) return unknownCommand(rest[0]!);
      process.stdout.write(commandHelp(spec));
      return 0;
    }
    process.stdout.write(topLevelHelp());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    process.stdout.write(`${mailroomVersion()}\n`);
    return 0;
  }
  const spec = commands.get(name);
  if (!spec) return unknownCommand(name);
  try {
    const parsed = parseCommandLine(spec, rest);
    if (parsed.help) {
      process.stdout.write(commandHelp(spec));
      return 0;
    }
    return await spec.run(parsed);
  } catch (err) {
    if (process.env.MAILROOM_DEBUG) console.error(err);
    if (err instanceof UsageError) {
      process.stderr.write(`mailroom ${name}: ${err.message}\nusage: ${spec.usage}\n`);
      return err.exitCode;
    }
    if (err instanceof CliError) {
      process.stderr.write(`mailroom ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    // A ConfigError, known by name: importing lib/config here would load every module before any command runs.
    if (err instanceof MailroomError && err.name === 'ConfigError') {
      process.stderr.write(`mailroom ${name}: ${err.message}\n`);
      return 2;
    }
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'EADDRINUSE') {
      process.stderr.write(
        `mailroom ${name}: address in use: ${e.message.replace(/^listen EADDRINUSE: /, '')}\n`,
      );
      return 2;
    }
    process.stderr.write(
      `mailroom ${name}: ${e instanceof Error ? e.message.split('\n')[0] : String(err)}\n`,
    );
    return 1;
  }
}
