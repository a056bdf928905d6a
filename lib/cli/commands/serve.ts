import { startLocalMailroom } from '../../dev/local-mailroom.ts';
import { scanSummary } from '../../scan/index.ts';
import { parseCommandArgs, portOption } from '../args.ts';
import { loadCliConfig } from '../config-path.ts';
import { createConsoleLogger } from '../console-logger.ts';
import { CliError } from '../errors.ts';
import { applySmtpEnv, s3IngressSettings } from '../smtp-env.ts';

const DEV_USAGE =
  'mailroom dev [--config F] [--smtp-port 2525] [--http-port 8025] [--data .mailroom] [--dns zone.json]';
const SMTP_USAGE =
  'mailroom smtp [--config F] [--host 127.0.0.1] [--port 2525] [--data .mailroom] [--dns zone.json] ' +
  '[--s3-bucket B [--s3-prefix smtp/] [--s3-endpoint URL]]';

/**
 * `mailroom dev`: SMTP + HTTP API + page. `mailroom smtp`: the SMTP ingress alone (what the container
 * runs), storing on disk and processing here, or — with `--s3-bucket` / `MAILROOM_RAW_BUCKET` — storing
 * in S3 only (processing happens in Lambda).
 */
export async function serveCommand(argv: string[], mode: 'dev' | 'smtp'): Promise<number> {
  const usage = mode === 'dev' ? DEV_USAGE : SMTP_USAGE;
  const common = {
    config: { type: 'string' },
    data: { type: 'string' },
    'smtp-port': { type: 'string' },
    'http-port': { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    dns: { type: 'string' },
  } as const;
  const s3Flags = {
    's3-bucket': { type: 'string' },
    's3-prefix': { type: 'string' },
    's3-endpoint': { type: 'string' },
  } as const;
  const { values, positionals } = parseCommandArgs(
    argv,
    mode === 'dev' ? common : { ...common, ...s3Flags },
    usage,
  );
  if (positionals.length) throw new CliError(`unexpected argument '${positionals[0]}'\nusage: ${usage}`);
  const s3Values = values as { 's3-bucket'?: string; 's3-prefix'?: string; 's3-endpoint'?: string };
  const s3 =
    mode === 'smtp'
      ? s3IngressSettings(
          { bucket: s3Values['s3-bucket'], prefix: s3Values['s3-prefix'], endpoint: s3Values['s3-endpoint'] },
          process.env,
        )
      : null;
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
  if (mode === 'smtp') applySmtpEnv(config, process.env);
  const logger = createConsoleLogger();
  const smtpHost = values.host ?? process.env.MAILROOM_SMTP_HOST;
  const smtpPort = portOption(
    values['smtp-port'] ?? values.port ?? process.env.MAILROOM_SMTP_PORT,
    'smtp-port',
  );
  let close: () => Promise<void>;
  if (s3) {
    const { startS3SmtpIngress } = await import('./smtp-s3.ts');
    const ingress = await startS3SmtpIngress({
      config,
      logger,
      s3,
      smtpPort,
      smtpHost,
      dataDir: values.data,
    });
    const submission =
      ingress.submissionPort === null
        ? ''
        : `, submission on ${config.submission?.host ?? smtpHost ?? config.smtp.host}:${ingress.submissionPort}`;
    const endpoint = s3.endpoint ? ` via ${s3.endpoint}` : '';
    process.stderr.write(
      `mailroom smtp: SMTP on ${smtpHost ?? config.smtp.host}:${ingress.smtpPort}${submission}, ` +
        `storing mail in ${ingress.location} (region ${s3.region}${endpoint}), processing elsewhere\n`,
    );
    close = () => ingress.close();
  } else {
    const mailroom = await startLocalMailroom({
      config,
      logger,
      dataDir: values.data,
      smtpPort,
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
    close = () => mailroom.close();
  }
  const scanning = scanSummary(config.scan);
  if (scanning) process.stderr.write(`mailroom ${mode}: ${scanning}\n`);
  await new Promise<void>((resolve) => {
    onSignal = (signal) => {
      logger.info('stopping: finishing open sessions', { signal });
      close().then(resolve, (err) => {
        logger.error('error while stopping', { error: String(err) });
        resolve();
      });
    };
    if (received) onSignal(received);
  });
  return 0;
}
