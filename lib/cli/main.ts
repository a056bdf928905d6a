import { ConfigError } from '../config/errors.ts';
import { hashPasswordCommand } from './commands/hash-password.ts';
import { initCommand } from './commands/init.ts';
import { parseCommand } from './commands/parse.ts';
import { replayCommand } from './commands/replay.ts';
import { routeCommand } from './commands/route.ts';
import { sendCommand } from './commands/send.ts';
import { serveCommand } from './commands/serve.ts';
import { CliError } from './errors.ts';

const help = `mailroom — inbound email framework

Commands:
  mailroom init [dir] [--domain example.com] [--force]
      write a starter project: config, handler, test, CDK app
  mailroom dev [--config F] [--smtp-port 2525] [--http-port 8025] [--data .mailroom]
      SMTP server, processing, HTTP API and web page on this machine
  mailroom parse <file.eml|-> [file.eml…]
      print the parsed message as JSON (NDJSON with a "file" field for several files)
  mailroom route <file.eml> --rcpt ADDR [--rcpt ADDR…] [--from ADDR] [--config F]
      print the routing decision per recipient, delivering nothing
  mailroom send <file.eml> --to ADDR [--from ADDR] [--host 127.0.0.1] [--port 2525]
      send a message file over SMTP
  mailroom smtp [--config F] [--host H] [--port P] [--data DIR]
               [--s3-bucket B [--s3-prefix smtp/] [--s3-endpoint URL]]
      the production SMTP ingress: stores and processes on this machine, or, with an S3 bucket
      (or MAILROOM_RAW_BUCKET), stores each message in S3 before 250 and leaves processing to Lambda;
      env MAILROOM_TLS_CERT/MAILROOM_TLS_KEY (PEM) and MAILROOM_PROXY_TRUSTED (IPs/CIDRs) apply
  mailroom replay <id> | --failed
      re-run a message, or every failed one, with the current code and config
  mailroom hash-password < file
      print the scrypt hash of the password on stdin, for submission.users

Set MAILROOM_DEBUG=1 for stack traces, MAILROOM_LOG_LEVEL=debug|info|warn|error for logs.
`;

const commands: Record<string, (argv: string[]) => Promise<number>> = {
  dev: (argv) => serveCommand(argv, 'dev'),
  smtp: (argv) => serveCommand(argv, 'smtp'),
  parse: parseCommand,
  route: routeCommand,
  send: sendCommand,
  replay: replayCommand,
  'hash-password': hashPasswordCommand,
  init: initCommand,
};

/** Runs the `mailroom` command; returns the exit code. User mistakes print one line, never a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`mailroom: unknown command '${name}' (try: ${Object.keys(commands).join(', ')})\n`);
    return 2;
  }
  try {
    return await command(rest);
  } catch (err) {
    if (process.env.MAILROOM_DEBUG) console.error(err);
    if (err instanceof CliError) {
      process.stderr.write(`mailroom ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof ConfigError) {
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
