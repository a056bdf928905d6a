import { startLocalMailroom } from '../../dev/local-mailroom.ts';
import { parseCommandArgs, portOption } from '../args.ts';
import { loadCliConfig } from '../config-path.ts';
import { createConsoleLogger } from '../console-logger.ts';
import { CliError } from '../errors.ts';

/** `mailroom dev`: SMTP + HTTP API + page. `mailroom smtp`: the SMTP ingress alone (what the container runs). */
export async function serveCommand(argv: string[], mode: 'dev' | 'smtp'): Promise<number> {
  const usage =
    mode === 'dev'
      ? 'mailroom dev [--config F] [--smtp-port 2525] [--http-port 8025] [--data .mailroom] [--dns zone.json]'
      : 'mailroom smtp [--config F] [--host 127.0.0.1] [--port 2525] [--data .mailroom] [--dns zone.json]';
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      config: { type: 'string' },
      data: { type: 'string' },
      'smtp-port': { type: 'string' },
      'http-port': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      dns: { type: 'string' },
    },
    usage,
  );
  if (positionals.length) throw new CliError(`unexpected argument '${positionals[0]}'\nusage: ${usage}`);
  // Listen for signals before anything starts, so a SIGTERM during start-up still stops cleanly.
  let received: string | null = null;
  let onSignal = (signal: string) => {
    received = signal;
  };
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`mailroom ${mode}: second ${signal}: exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    onSignal(signal);
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);

  const config = await loadCliConfig(values.config, values.dns);
  const logger = createConsoleLogger();
  const smtpHost = values.host ?? process.env.MAILROOM_SMTP_HOST;
  const mailroom = await startLocalMailroom({
    config,
    logger,
    dataDir: values.data,
    smtpPort: portOption(values['smtp-port'] ?? values.port ?? process.env.MAILROOM_SMTP_PORT, 'smtp-port'),
    smtpHost,
    http: mode === 'dev',
    httpPort: portOption(values['http-port'], 'http-port'),
    devTls: mode === 'dev',
    checkAtDataByDefault: mode === 'smtp',
  });
  const where = `SMTP on ${smtpHost ?? config.smtp.host}:${mailroom.smtpPort}`;
  const submission =
    mailroom.submissionPort === null
      ? ''
      : `, submission on ${config.submission?.host ?? smtpHost ?? config.smtp.host}:${mailroom.submissionPort}`;
  process.stderr.write(
    mode === 'dev'
      ? `mailroom dev: ${where}, web UI and API on http://${config.http.host}:${mailroom.httpPort}/${submission}\n`
      : `mailroom smtp: ${where}${submission}\n`,
  );
  await new Promise<void>((resolve) => {
    onSignal = (signal) => {
      logger.info('stopping: finishing open sessions', { signal });
      mailroom.close().then(resolve, (err) => {
        logger.error('error while stopping', { error: String(err) });
        resolve();
      });
    };
    if (received) onSignal(received);
  });
  return 0;
}
