import { join, resolve } from 'node:path';
import { createLocalActionPorts } from '../actions/index.ts';
import { preloadAuthentication } from '../auth/index.ts';
import { DEFAULT_ATTACHMENTS, type MailroomConfig } from '../config/index.ts';
import type { Logger } from '../kernel/index.ts';
import { createOutboundMail } from '../outbound/index.ts';
import type { WorkerProcessing } from '../pipeline/index.ts';
import { LocalAttachmentStore, SqliteMessageStore } from '../store/index.ts';
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
  const attachmentStore = new LocalAttachmentStore(dataDir, { removeTemps: false });
  const signer = new AttachmentUrlSigner(await loadUrlKey(dataDir));
  const urlExpiresIn = (config.attachments ?? DEFAULT_ATTACHMENTS).urlExpiresIn;
  const outbound = createOutboundMail({ ...config.outbound, store });
  const cloud = createLocalActionPorts({
    outbound,
    forwardFrom: config.outbound.from,
    record: data.http ? { dir: join(dataDir, 'cloud-actions') } : false,
    logger,
  });
  return {
    ports: {
      config,
      store,
      outbound,
      replyFrom: config.outbound.from,
      cloud,
      attachments: {
        store: attachmentStore,
        url: async (ref) => {
          const origin = options.context()?.origin ?? null;
          return origin === null ? null : `${origin}/files/${signer.sign(ref, urlExpiresIn)}`;
        },
      },
    },
    async close() {
      await outbound.close?.();
      await store.close();
    },
  };
}
