import { join, resolve } from 'node:path';
import { createLocalActionPorts } from '../actions/index.ts';
import { preloadAuthentication } from '../auth/index.ts';
import { DEFAULT_ATTACHMENTS, type MailroomConfig } from '../config/index.ts';
import type { Logger } from '../kernel/index.ts';
import { createOutboundMail, type OutboundMail } from '../outbound/index.ts';
import type { ProcessingPortsInput, WorkerProcessing } from '../pipeline/index.ts';
import { LocalAttachmentStore, SqliteMessageStore } from '../store/index.ts';
import type { DevAttachments } from './attachment-routes.ts';
import { AttachmentUrlSigner, loadUrlKey } from './attachment-url-signer.ts';

/** What a processing worker of the local mailroom is told when it starts (structured-cloned). */
export interface LocalWorkerData {
  /** The config module, loaded again in the worker (handlers are code: they cannot be sent). */
  configFile: string;
  /** A DNS zone file answering message authentication (`--dns`), or null. */
  dnsZone: string | null;
  dataDir: string;
  /** Whether the dev HTTP API runs: Lambda and EventBridge actions are then recorded, not sent. */
  http: boolean;
}

/** What each message brings along: the dev server's origin for attachment links, once it listens. */
export interface LocalWorkerContext {
  origin: string | null;
}

/**
 * The action and attachment ports every local processing thread builds alike (`startLocalMailroom` for its
 * own thread, {@link localWorkerProcessing} for each worker): replies through `outbound`, Lambda and
 * EventBridge actions recorded in `<dataDir>/cloud-actions` when the dev HTTP API runs (else refused),
 * attachment links signed for the dev server's origin once it is known.
 */
export function localActionPorts(options: {
  config: MailroomConfig;
  dataDir: string;
  http: boolean;
  logger: Logger;
  outbound: OutboundMail;
  attachments: DevAttachments;
  origin: () => string | null;
}): Pick<ProcessingPortsInput, 'replyFrom' | 'cloud' | 'attachments'> {
  const { config, outbound, attachments, origin } = options;
  const urlExpiresIn = (config.attachments ?? DEFAULT_ATTACHMENTS).urlExpiresIn;
  return {
    replyFrom: config.outbound.from,
    cloud: createLocalActionPorts({
      outbound,
      forwardFrom: config.outbound.from,
      record: options.http ? { dir: join(options.dataDir, 'cloud-actions') } : false,
      logger: options.logger,
    }),
    attachments: {
      store: attachments.store,
      url: async (ref) => {
        const at = origin();
        return at === null ? null : `${at}/files/${attachments.signer.sign(ref, urlExpiresIn)}`;
      },
    },
  };
}

/**
 * The processing ports of one worker of the local mailroom, as `startLocalMailroom` builds them for its own
 * thread: its own SQLite connection (WAL, busy timeout) to `<dataDir>/mailroom.db`, the attachment store
 * and link signer, the outbound mail (the outbox in dev) and the local action ports.
 */
export async function localWorkerProcessing(options: {
  config: MailroomConfig;
  data: LocalWorkerData;
  logger: Logger;
  context: () => LocalWorkerContext | null;
}): Promise<WorkerProcessing> {
  const { config, data, logger } = options;
  await preloadAuthentication(); // before the first message, not during it
  const dataDir = resolve(data.dataDir);
  const store = new SqliteMessageStore(join(dataDir, 'mailroom.db'));
  const attachments: DevAttachments = {
    store: new LocalAttachmentStore(dataDir, { removeTemps: false }),
    signer: new AttachmentUrlSigner(await loadUrlKey(dataDir)),
  };
  const outbound = createOutboundMail({ ...config.outbound, store });
  const origin = () => options.context()?.origin ?? null;
  return {
    ports: {
      config,
      store,
      outbound,
      ...localActionPorts({ config, dataDir, http: data.http, logger, outbound, attachments, origin }),
    },
    async close() {
      await outbound.close?.();
      await store.close();
    },
  };
}
