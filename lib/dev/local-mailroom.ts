import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import type { CloudActionPorts } from '../actions/index.ts';
import { preloadAuthentication } from '../auth/index.ts';
import type { MailroomConfig } from '../config/index.ts';
import type { Logger } from '../kernel/index.ts';
import { createOutboundMail } from '../outbound/index.ts';
import { createPipeline, type Pipeline, type PipelineEvent, ProcessingPool } from '../pipeline/index.ts';
import { type Router, routerFromConfig } from '../routing/index.ts';
import { type IngressListeners, startIngressListeners } from '../smtp/index.ts';
import {
  LocalAttachmentStore,
  LocalRawStore,
  pruneMessages,
  type RetentionPolicy,
  SqliteMessageStore,
  schedulePruning,
} from '../store/index.ts';
import type { DevAttachments } from './attachment-routes.ts';
import { AttachmentUrlSigner, loadUrlKey, serverOrigin } from './attachment-url-signer.ts';
import { handleApiRequest } from './http-api.ts';
import { SseHub } from './sse-hub.ts';
import { type LocalWorkerContext, type LocalWorkerData, localActionPorts } from './worker-processing.ts';

export interface LocalMailroomOptions {
  config: MailroomConfig;
  logger: Logger;
  /** @default config.dataDir */
  dataDir?: string;
  /** @default config.smtp.port */
  smtpPort?: number;
  /** @default config.smtp.host */
  smtpHost?: string;
  /** Serve the HTTP API and page; false for the production `mailroom smtp`. @default true */
  http?: boolean;
  /** @default config.http.port */
  httpPort?: number;
  /**
   * Dev mode: an unset `smtp.tls` means a self-signed certificate (made once in `<dataDir>/tls/`).
   * @default false
   */
  devTls?: boolean;
  /** @default config.submission.port (when `submission` is configured) */
  submissionPort?: number;
  /**
   * Whether messages are authenticated at the end of DATA when `auth.checkAtData` is not set: true for the
   * production `mailroom smtp`.
   * @default false
   */
  checkAtDataByDefault?: boolean;
  /**
   * Retention, run on start and every 10 minutes, one run at a time (`pruneMessages`): `'config'` prunes
   * only when the config has `retention`; a policy is used when it has none (`mailroom dev` passes
   * `DEV_RETENTION`, the newest 500 messages); false never prunes (a command running on the data briefly).
   * @default 'config'
   */
  prune?: 'config' | RetentionPolicy | false;
  /**
   * How `lambda()`, `eventBridge()` and `forward()` actions run. By default `forward()` sends through the
   * outbound mail (the outbox in dev), and with the HTTP API on (`mailroom dev`) Lambda invocations and
   * EventBridge events are recorded, not sent, in `<dataDir>/cloud-actions/<key>.json` (delivered, with a
   * trace entry saying so); without it (`mailroom smtp`) they fail with an error naming the AWS processor.
   * @default createLocalActionPorts(...) as described
   */
  cloud?: CloudActionPorts;
  /** The clock signed attachment links are made and checked with (tests expire them without waiting). */
  now?: () => Date;
  /**
   * Process messages in worker threads, off the SMTP event loop (`mailroom smtp`, `mailroom dev`): how many,
   * the worker's module (it calls `serveProcessing` with {@link localWorkerProcessing}) and where it loads
   * the config from. Unset, or `size` 0: messages are processed on this thread. Not with `cloud` or `now`,
   * which cannot be sent to a worker (then this thread processes).
   */
  workers?: { size: number; entry: string; configFile: string; dnsZone: string | null };
}

export interface LocalMailroom {
  readonly smtpPort: number;
  /** null when no submission listener is configured. */
  readonly submissionPort: number | null;
  /** Whether the MX listener offers STARTTLS. */
  readonly starttls: boolean;
  /** null when the HTTP API is off. */
  readonly httpPort: number | null;
  readonly pipeline: Pipeline;
  readonly router: Router;
  /** Stops accepting mail, lets open sessions finish (421 after the close timeout), then stops processing. */
  close(): Promise<void>;
}

/**
 * Mailroom on one machine: SMTP ingress → files on disk (fsync before 250) → SQLite records →
 * in-process pipeline, plus the dev HTTP API. Unfinished messages from an earlier run are processed on start.
 */
export async function startLocalMailroom(options: LocalMailroomOptions): Promise<LocalMailroom> {
  const { config, logger } = options;
  const dataDir = resolve(options.dataDir ?? config.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const rawStore = new LocalRawStore(dataDir);
  // WAL synced before a write resolves: a delivery recorded as done stays done after a power loss too,
  // which the exactly-once effects (mailbox entries, outbox, idempotency keys) rely on.
  const store = new SqliteMessageStore(join(dataDir, 'mailroom.db'));
  const router = routerFromConfig(config);
  const attachments = await localAttachments(dataDir, options.now);
  let origin: string | null = null; // known once the HTTP server listens
  // Replies from handlers (`ctx.reply`): kept in the outbox (dev) or sent through the configured relay.
  const outbound = createOutboundMail({ ...config.outbound, store });
  const http = options.http ?? true;
  const actionPorts = localActionPorts({
    config,
    dataDir,
    http,
    logger,
    outbound,
    attachments,
    origin: () => origin,
  });
  const workers = options.cloud || options.now ? undefined : options.workers;
  // This thread authenticates what it processes: load mailauth before mail arrives, not on the first message.
  if (!workers || workers.size === 0) await preloadAuthentication();
  const pipeline = createPipeline({
    ...(workers && workers.size > 0
      ? {
          processor: (emit: (event: PipelineEvent) => void) => {
            const pool = new ProcessingPool({
              size: workers.size,
              entry: workers.entry,
              data: (): LocalWorkerData => ({
                configFile: workers.configFile,
                dnsZone: workers.dnsZone,
                dataDir,
                http,
              }),
              context: (): LocalWorkerContext => ({ origin }),
              emit,
              logger,
            });
            pool.warm();
            return pool;
          },
        }
      : {}),
    config,
    router,
    rawStore,
    store,
    logger,
    outbound,
    ...actionPorts,
    cloud: options.cloud ?? actionPorts.cloud,
  });
  const events = new SseHub();
  pipeline.onEvent((event) => events.send(event.type, event));

  async function closeAll(): Promise<void> {
    await pipeline.close().catch(() => {});
    await outbound.close?.().catch(() => {});
    await store.close().catch(() => {});
  }

  let listeners: IngressListeners;
  try {
    listeners = await startIngressListeners({
      config,
      router,
      accept: (input) => pipeline.accept(input),
      checkAtData: config.auth.checkAtData ?? options.checkAtDataByDefault ?? false,
      dataDir,
      devTls: options.devTls ?? false,
      smtpHost: options.smtpHost,
      smtpPort: options.smtpPort,
      submissionPort: options.submissionPort,
      logger,
    });
  } catch (err) {
    await closeAll();
    throw err;
  }
  const { smtpPort, submissionPort, starttls } = listeners;

  let httpServer: Server | null = null;
  let httpPort: number | null = null;
  try {
    if (options.http !== false) {
      const server = createServer((req, res) => {
        const deps = { config, pipeline, router, store, rawStore, events, attachments };
        void handleApiRequest(deps, req, res);
      });
      httpServer = server;
      httpPort = await new Promise<number>((resolvePort, reject) => {
        server.once('error', reject);
        server.listen(options.httpPort ?? config.http.port, config.http.host, () => {
          const addr = server.address();
          resolvePort(typeof addr === 'object' && addr ? addr.port : 0);
        });
      });
      origin = serverOrigin(config.http.host, httpPort);
    }
    await pipeline.recover();
    const retention = options.prune === false ? null : (config.retention ?? policyOrNull(options.prune));
    const pruning = retention
      ? schedulePruning({
          logger,
          prune: () =>
            pruneMessages({
              store,
              rawStore,
              attachments: attachments.store,
              retention,
              now: new Date(),
              onDeleted: (id) => events.send('message.deleted', { id }),
            }),
        })
      : null;
    logger.info('mailroom started', { smtpPort, submissionPort, starttls, httpPort, dataDir });

    let closing: Promise<void> | null = null;
    return {
      smtpPort,
      submissionPort,
      starttls,
      httpPort,
      pipeline,
      router,
      close() {
        closing ??= (async () => {
          await listeners.close();
          events.close();
          if (httpServer) {
            httpServer.closeAllConnections();
            await new Promise<void>((r) => httpServer!.close(() => r()));
          }
          await pruning?.stop();
          await pipeline.close();
          await outbound.close?.();
          await store.close();
          await rawStore.close(); // writes the journal out as files
        })();
        return closing;
      },
    };
  } catch (err) {
    await listeners.close().catch(() => {});
    httpServer?.close();
    await closeAll();
    throw err;
  }
}

function policyOrNull(prune: LocalMailroomOptions['prune']): RetentionPolicy | null {
  return prune === undefined || prune === false || prune === 'config' ? null : prune;
}

/** The content-addressed store under `<dataDir>/attachments/` (temp files of a crash removed) and the link signer. */
async function localAttachments(dataDir: string, now?: () => Date): Promise<DevAttachments> {
  const store = new LocalAttachmentStore(dataDir);
  await store.ready();
  return { store, signer: new AttachmentUrlSigner(await loadUrlKey(dataDir), now) };
}
