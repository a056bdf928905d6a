import { resolve } from 'node:path';
import {
  createDataTimeCheck,
  type DataTimeCheck,
  scanOnlyVerdicts,
  stripForgedAuthResults,
} from '../auth/index.ts';
import { ConfigError, type MailroomConfig } from '../config/index.ts';
import type { Logger } from '../kernel/index.ts';
import type { Router } from '../routing/index.ts';
import { type ScanCheck, scanCheckFromConfig } from '../scan/index.ts';
import { LoginLimiter } from '../submission/index.ts';
import { TlsConfigError, type TlsCredentials, tlsCredentialsFor } from '../tls/index.ts';
import { createSmtpIngress } from './create-smtp-ingress.ts';
import type { InspectResult, SmtpIngress, SmtpIngressDeps } from './types.ts';

export interface IngressListenersOptions {
  config: MailroomConfig;
  /** Decides at RCPT time, for both listeners. */
  router: Router;
  /** Where accepted messages go (stored durably before it resolves), for both listeners. */
  accept: SmtpIngressDeps['accept'];
  /** Authenticate at the end of DATA (verdicts stored with the message; DMARC rejects possible). */
  checkAtData: boolean;
  /** Where a `'self-signed'` certificate is kept. @default config.dataDir */
  dataDir?: string | undefined;
  /** Treat an unset `smtp.tls` as `'self-signed'` (`mailroom dev`). @default false */
  devTls?: boolean;
  /** @default config.smtp.host */
  smtpHost?: string | undefined;
  /** @default config.smtp.port */
  smtpPort?: number | undefined;
  /** @default config.submission.port */
  submissionPort?: number | undefined;
  logger: Logger;
}

export interface IngressListeners {
  readonly smtpPort: number;
  /** null when no submission listener is configured. */
  readonly submissionPort: number | null;
  /** Whether STARTTLS is offered. */
  readonly starttls: boolean;
  /** Stops both listeners (open sessions may finish, up to `smtp.closeTimeoutMs`). */
  close(): Promise<void>;
}

/**
 * The SMTP listeners every Mailroom ingress runs (`mailroom dev`, `mailroom smtp` locally or with S3): the MX
 * listener, and the authenticated submission listener when configured — with the same recipient check and
 * `accept()`, so submitted mail is routed like any other and never relayed out. Loads the STARTTLS
 * credentials first and listens on both; if anything fails, closes what it opened.
 * @throws ConfigError for unusable TLS settings, or submission without TLS.
 */
export async function startIngressListeners(options: IngressListenersOptions): Promise<IngressListeners> {
  const { config, router, accept, logger } = options;
  const tls = await listenerTls(options);

  const smtpHost = options.smtpHost ?? config.smtp.host;
  const checkRecipient: SmtpIngressDeps['checkRecipient'] = (rcpt, input) =>
    router.checkRecipient(rcpt, input);
  const check: DataTimeCheck | null = options.checkAtData ? createDataTimeCheck(config.auth) : null;
  const scan: ScanCheck | null = config.scan ? scanCheckFromConfig(config.scan, logger) : null;
  const authCheck = check ? endOfDataCheck(check, config.auth.authservId) : {};
  const smtp: SmtpIngress = createSmtpIngress({
    options: { ...config.smtp, port: options.smtpPort ?? config.smtp.port, host: smtpHost },
    tls,
    checkRecipient,
    accept,
    ...(scan ? withScan(authCheck, scan) : authCheck),
    logger,
  });
  const submission = config.submission
    ? submissionIngress(config.submission, options, { tls, checkRecipient, accept, logger, smtpHost })
    : null;
  const close = async () => {
    await Promise.all([smtp.close(), submission?.close()]);
    await check?.close();
  };

  try {
    const smtpPort = (await smtp.listen()).port;
    const submissionPort = submission ? (await submission.listen()).port : null;
    return { smtpPort, submissionPort, starttls: tls !== null, close };
  } catch (err) {
    await smtp.close().catch(() => {});
    await submission?.close().catch(() => {});
    await check?.close().catch(() => {});
    throw err;
  }
}

/**
 * The STARTTLS credentials for both listeners.
 * @throws ConfigError for unusable TLS settings, or submission without TLS.
 */
async function listenerTls(options: IngressListenersOptions): Promise<TlsCredentials | null> {
  const { config } = options;
  let tls: TlsCredentials | null;
  try {
    tls = await tlsCredentialsFor(config.smtp.tls, {
      dataDir: resolve(options.dataDir ?? config.dataDir),
      hostname: config.smtp.hostname,
      dev: options.devTls ?? false,
    });
  } catch (err) {
    if (err instanceof TlsConfigError) throw new ConfigError([err.message], { cause: err });
    throw err;
  }
  if (config.submission && !tls) {
    throw new ConfigError(['submission: needs smtp.tls (STARTTLS is required before AUTH)']);
  }
  return tls;
}

/** The authenticated submission listener (never behind a PROXY-protocol load balancer). */
function submissionIngress(
  submission: NonNullable<MailroomConfig['submission']>,
  options: IngressListenersOptions,
  shared: Pick<SmtpIngressDeps, 'tls' | 'checkRecipient' | 'accept' | 'logger'> & { smtpHost: string },
): SmtpIngress {
  const { smtpHost, ...deps } = shared;
  return createSmtpIngress({
    options: {
      ...options.config.smtp,
      port: options.submissionPort ?? submission.port,
      host: submission.host ?? smtpHost,
      proxyProtocol: null,
    },
    submission: {
      users: submission.users,
      loginLimiter: new LoginLimiter(submission.maxLoginFailures, submission.loginFailureWindowMs),
    },
    ...deps,
  });
}

/**
 * The end-of-DATA authentication as the ingress's `inspect`, run off the event loop (a worker pool). Forged
 * `Authentication-Results` claiming our authserv-id are removed whatever happens (RFC 8601 §5): by the
 * check, on the main thread when the check could not finish, and from the header block of messages too
 * big to inspect.
 */
function endOfDataCheck(
  check: DataTimeCheck,
  authservId: string,
): Pick<SmtpIngressDeps, 'inspect' | 'cleanHead'> {
  const strip = (raw: Buffer) => stripForgedAuthResults(raw, authservId).raw;
  return {
    async inspect(input) {
      const decision = await check(input);
      return 'deferred' in decision ? { ...decision, body: strip(input.raw) } : decision;
    },
    cleanHead: strip,
  };
}

/**
 * Adds the content scan (rspamd, ClamAV; see `scan` in the config) to the end-of-DATA check: both run at
 * once, a refusal by either wins (the scan's first), and the scan's verdicts join the authentication
 * verdicts. Without them (authentication off at DATA, or not finished) the message is stored with
 * `scanOnly` verdicts: processing authenticates it and keeps `spam` and `virus`.
 */
function withScan(
  auth: Pick<SmtpIngressDeps, 'inspect' | 'cleanHead'>,
  scan: ScanCheck,
): Pick<SmtpIngressDeps, 'inspect' | 'cleanHead'> {
  const inspectAuth = auth.inspect;
  return {
    ...auth,
    async inspect(input): Promise<InspectResult> {
      const [checked, scanned] = await Promise.all([inspectAuth ? inspectAuth(input) : null, scan(input)]);
      if (scanned.reject) return { reject: scanned.reject };
      if (checked?.reject) return checked;
      const { spam, virus } = scanned;
      if (checked?.auth && !checked.deferred) return { ...checked, auth: { ...checked.auth, spam, virus } };
      return { ...(checked ?? {}), auth: scanOnlyVerdicts(spam, virus) };
    },
  };
}
