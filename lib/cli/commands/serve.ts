import { resolve } from 'node:path';
import type { MailroomConfig } from '../../config/index.ts';
import { type LocalMailroomOptions, startLocalMailroom } from '../../dev/index.ts';
import { scanSummary } from '../../scan/index.ts';
import { DEV_RETENTION } from '../../store/index.ts';
import { portOption } from '../args.ts';
import { cliConfigFile, cliDnsZoneFile, loadCliConfig, printStartWarnings } from '../config-path.ts';
import { createConsoleLogger } from '../console-logger.ts';
import { applySmtpEnv, s3IngressSettings } from '../smtp-env.ts';
import type { ServeArgs } from './serve.usage.ts';

/**
 * `mailroom dev`: SMTP + HTTP API + page. `mailroom smtp`: the SMTP ingress alone (what the container
 * runs), storing on disk and processing here, or — with `--s3-bucket` / `MAILROOM_RAW_BUCKET` — storing
 * in S3 only (processing happens in Lambda).
 */
export async function serveCommand({ values }: ServeArgs, mode: 'dev' | 'smtp'): Promise<number> {
  const s3 =
    mode === 'smtp'
      ? s3IngressSettings(
          { bucket: values['s3-bucket'], prefix: values['s3-prefix'], endpoint: values['s3-endpoint'] },
          process.env,
        )
      : null;
  const portFlag = mode === 'dev' ? 'smtp-port' : 'port';
  const smtpPort =
    portOption(values['smtp-port'] ?? values.port, portFlag) ??
    portOption(process.env.MAILROOM_SMTP_PORT, 'MAILROOM_SMTP_PORT');
  const httpPort = portOption(values['http-port'], 'http-port');
  const smtpHost = values.host ?? process.env.MAILROOM_SMTP_HOST;
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
  printStartWarnings(mode, config);
  if (mode === 'smtp') applySmtpEnv(config, process.env);
  const logger = createConsoleLogger();
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
      httpPort,
      devTls: mode === 'dev',
      checkAtDataByDefault: mode === 'smtp',
      // dev keeps the newest 500 messages unless `retention` says otherwise; smtp only prunes when told to
      prune: mode === 'dev' ? DEV_RETENTION : 'config',
      workers: processingWorkers(config, values.config, values.dns),
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

/** `delivery.workers` processing threads, each loading the config (and DNS zone) the command loaded. */
function processingWorkers(
  config: MailroomConfig,
  configFlag: string | undefined,
  dnsFlag: string | undefined,
): LocalMailroomOptions['workers'] {
  const fromSources = import.meta.url.endsWith('.ts');
  const zone = cliDnsZoneFile(dnsFlag);
  return {
    size: config.delivery.workers,
    entry: new URL(`../processing-worker.${fromSources ? 'ts' : 'js'}`, import.meta.url).href,
    configFile: resolve(cliConfigFile(configFlag)),
    dnsZone: zone ? resolve(zone) : null,
  };
}
