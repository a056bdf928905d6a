import {
  createIngressS3Client,
  createS3Acceptor,
  EmfMetrics,
  type MetricsPort,
  S3RawStore,
  SMTP_SERVICE,
} from '../../aws/index.ts';
import type { MailroomConfig } from '../../config/index.ts';
import type { Logger } from '../../kernel/index.ts';
import { routerFromConfig } from '../../routing/index.ts';
import { type IngressListeners, startIngressListeners } from '../../smtp/index.ts';
import type { S3IngressSettings } from '../smtp-env.ts';

export interface S3SmtpIngressOptions {
  config: MailroomConfig;
  logger: Logger;
  s3: S3IngressSettings;
  /** @default config.smtp.port */
  smtpPort?: number | undefined;
  /** @default config.smtp.host */
  smtpHost?: string | undefined;
  /** Only for `smtp.tls: 'self-signed'` (the certificate is kept there). @default config.dataDir */
  dataDir?: string | undefined;
  /**
   * Where `MessagesReceived` (one per message answered 250) is counted: flushed every `metricsFlushMs`
   * and at close. @default EMF lines on stdout with `service` = `mailroom-smtp` (on Fargate the task's log
   * group extracts them; `POWERTOOLS_METRICS_DISABLED=true` turns them off)
   */
  metrics?: MetricsPort | null;
  /** @default 60_000 */
  metricsFlushMs?: number;
}

/** Counts a message as received once its `accept` resolved (the client then gets 250). */
function counted<Input, Result>(
  accept: (input: Input) => Promise<Result>,
  metrics: MetricsPort | null,
): (input: Input) => Promise<Result> {
  if (!metrics) return accept;
  return async (input) => {
    const result = await accept(input);
    metrics.add('MessagesReceived', 1);
    return result;
  };
}

export interface S3SmtpIngress {
  readonly smtpPort: number;
  readonly submissionPort: number | null;
  readonly starttls: boolean;
  /** `s3://bucket/prefix`, for the start-up line. */
  readonly location: string;
  /**
   * Stops accepting mail; sessions in the middle of DATA may finish (their upload completes and they get
   * their reply, for up to `smtp.closeTimeoutMs`); then waits for every upload still running.
   */
  close(): Promise<void>;
}

/**
 * `mailroom smtp` in S3 mode, the self-hosted ingress on AWS: the same SMTP server (RCPT-time routing
 * checks, limits, STARTTLS, PROXY protocol, end-of-DATA authentication unless `auth.checkAtData` is
 * false) whose `accept()` stores each message in S3 with its envelope and verdicts, answering `250` only
 * once S3 has confirmed it and `451 4.3.0` when it has not. Nothing is processed here: the S3 event
 * starts the processing Lambda.
 */
export async function startS3SmtpIngress(options: S3SmtpIngressOptions): Promise<S3SmtpIngress> {
  const { config, logger, s3 } = options;
  const client = createIngressS3Client({
    region: s3.region,
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
  });
  const store = new S3RawStore({ client, bucket: s3.bucket, prefix: s3.prefix });
  const acceptor = createS3Acceptor({ store, logger });
  const metrics = options.metrics === undefined ? new EmfMetrics(SMTP_SERVICE) : options.metrics;
  // The verdicts travel with the message into S3, so the processing Lambda does not repeat the DNS checks.
  const checkAtData = config.auth.checkAtData ?? true;
  let listeners: IngressListeners;
  try {
    listeners = await startIngressListeners({
      config,
      router: routerFromConfig(config),
      accept: counted((input) => acceptor.accept(input), metrics),
      checkAtData,
      dataDir: options.dataDir,
      smtpHost: options.smtpHost,
      smtpPort: options.smtpPort,
      logger,
    });
  } catch (err) {
    client.destroy();
    throw err;
  }
  const { smtpPort, submissionPort, starttls } = listeners;
  // One line per interval with the interval's count, not one per message.
  const flushing = metrics ? setInterval(() => metrics.flush(), options.metricsFlushMs ?? 60_000) : null;
  flushing?.unref();
  const location = `s3://${s3.bucket}/${s3.prefix}`;
  logger.info('mailroom smtp started', {
    smtpPort,
    submissionPort,
    starttls,
    bucket: s3.bucket,
    prefix: s3.prefix,
    endpoint: s3.endpoint,
    region: s3.region,
    checkAtData,
  });

  let closing: Promise<void> | null = null;
  return {
    smtpPort,
    submissionPort,
    starttls,
    location,
    close() {
      closing ??= (async () => {
        await listeners.close();
        if (acceptor.inFlight) logger.info('waiting for uploads to S3', { uploads: acceptor.inFlight });
        await acceptor.drain();
        if (flushing) clearInterval(flushing);
        metrics?.flush();
        client.destroy();
      })();
      return closing;
    },
  };
}
