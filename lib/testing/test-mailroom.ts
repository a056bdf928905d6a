import { createLocalActionPorts, type RecordedCloudAction } from '../actions/index.ts';
import { type ContentVerdict, scanOnlyVerdicts } from '../auth/index.ts';
import { type MailroomConfig, type MailroomOptions, resolveConfig } from '../config/index.ts';
import type { Envelope, Logger } from '../kernel/index.ts';
import { silentLogger } from '../kernel/index.ts';
import { OutboxMail } from '../outbound/index.ts';
import { createPipeline } from '../pipeline/index.ts';
import { routerFromConfig } from '../routing/index.ts';
import {
  type MailboxEntry,
  MemoryAttachmentStore,
  MemoryRawStore,
  type MessageDetail,
  type OutboxEntry,
  type OutboxSummary,
  SqliteMessageStore,
} from '../store/index.ts';

export interface TestDeliverOptions {
  /** Envelope recipients (RCPT TO). */
  to: string | string[];
  /** Envelope sender (MAIL FROM). @default 'sender@example.test' */
  from?: string;
  /**
   * The SMTP client's IP address. With it the message is authenticated (SPF, DKIM, DMARC, ARC) against
   * the config's `auth.dns` zone or `auth.resolver`, as if it came over SMTP from there.
   * @default undefined (not authenticated: every verdict `none`)
   */
  ip?: string;
  /** The HELO/EHLO name the client gave. @default undefined */
  helo?: string;
  /**
   * The spam verdict the ingress's scanner gave (see `scan` in the config), e.g. `{ verdict: 'fail' }`,
   * to test `when.spam` routes and handlers reading `ctx.auth.spam`. @default null (no scan)
   */
  spam?: ContentVerdict | null;
  /** The virus verdict, like `spam`. @default null (no scan) */
  virus?: ContentVerdict | null;
}

/** What happened to one message: the same records the dev API shows, plus the RCPT-time refusals. */
export interface TestDelivery extends MessageDetail {
  refused: Array<{ recipient: string; code: number; message: string }>;
}

export interface TestMailroom {
  readonly config: MailroomConfig;
  /**
   * Runs one message through the real pipeline (RCPT checks, parse, route, actions with retries) and
   * resolves once it is processed. Recipients the SMTP ingress would refuse are in `refused`.
   * @throws when every recipient is refused (the message would never have been accepted).
   */
  deliver(raw: string | Buffer, options: TestDeliverOptions): Promise<TestDelivery>;
  /** The entries of a mailbox, oldest first. */
  mailbox(name: string): Promise<MailboxEntry[]>;
  /**
   * What `lambda()` and `eventBridge()` actions would have sent (recorded, never invoked), oldest first,
   * one per delivery. `forward()` actions land in the outbox.
   */
  cloudActions(): RecordedCloudAction[];
  /** Replies handlers sent with `ctx.reply` (kept, never sent). */
  outbox(): Promise<OutboxSummary[]>;
  /** One kept reply with its bytes. */
  outboxEntry(id: string): Promise<OutboxEntry | null>;
  replay(id: string): Promise<TestDelivery>;
  close(): Promise<void>;
}

/**
 * Mailroom in memory for tests (Action Mailbox's TestHelper idea): your config and handlers, the real
 * pipeline, an in-memory raw store and an in-memory SQLite store. Retry waits default to zero, and DNS
 * is an empty static zone unless the config gives `auth.dns` or `auth.resolver` (never real DNS).
 */
export async function createTestMailroom(
  options: MailroomOptions,
  logger: Logger = silentLogger,
): Promise<TestMailroom> {
  const config = resolveConfig({
    ...options,
    delivery: { backoffMs: 0, maxBackoffMs: 0, ...options.delivery },
    // Tests never touch real DNS: without a zone or resolver of their own, every name is NXDOMAIN.
    auth: options.auth?.resolver || options.auth?.dns ? options.auth : { ...options.auth, dns: {} },
  });
  const router = routerFromConfig(config);
  const rawStore = new MemoryRawStore();
  const store = new SqliteMessageStore(':memory:');
  const outbound = new OutboxMail(store);
  const cloud = createLocalActionPorts({
    outbound,
    forwardFrom: config.outbound.from,
    record: 'memory',
    logger,
  });
  const pipeline = createPipeline({
    config,
    router,
    rawStore,
    store,
    logger,
    outbound,
    replyFrom: config.outbound.from,
    cloud,
    // Handlers' `ctx.attachments` read kept attachments from memory; there is no server to link to.
    attachments: { store: new MemoryAttachmentStore(), url: async () => null },
  });

  const detail = async (id: string, refused: TestDelivery['refused']): Promise<TestDelivery> => {
    const message = await store.getMessage(id);
    if (!message) throw new Error(`no message ${id}`);
    return { ...message, refused };
  };

  return {
    config,
    async deliver(raw, opts) {
      const mailFrom = opts.from ?? 'sender@example.test';
      const recipients = Array.isArray(opts.to) ? opts.to : [opts.to];
      const accepted: string[] = [];
      const refused: TestDelivery['refused'] = [];
      for (const rcpt of recipients) {
        const verdict = router.checkRecipient(rcpt, { mailFrom });
        if (verdict.accepted) accepted.push(rcpt);
        else refused.push({ recipient: rcpt, code: verdict.code, message: verdict.message });
      }
      if (accepted.length === 0) {
        throw new Error(
          `every recipient was refused: ${refused.map((r) => `${r.recipient}: ${r.code} ${r.message}`).join('; ')}`,
        );
      }
      const body = typeof raw === 'string' ? Buffer.from(raw.replace(/\r?\n/g, '\r\n')) : raw;
      const envelope: Envelope = { mailFrom, rcptTo: accepted };
      if (opts.ip !== undefined) envelope.remoteAddress = opts.ip;
      if (opts.helo !== undefined) envelope.helo = opts.helo;
      // Scan verdicts as the SMTP ingress stores them: processing authenticates and keeps them.
      const scanned =
        opts.spam || opts.virus ? { auth: scanOnlyVerdicts(opts.spam ?? null, opts.virus ?? null) } : {};
      const { id } = await pipeline.accept({ envelope, body, ...scanned });
      await pipeline.drain();
      return detail(id, refused);
    },
    mailbox: (name) => store.listMailboxEntries(name),
    cloudActions: () => cloud.recorded(),
    outbox: () => store.listOutbox(),
    outboxEntry: (id) => store.getOutboxEntry(id),
    async replay(id) {
      await pipeline.replay(id);
      return detail(id, []);
    },
    async close() {
      await pipeline.close();
      await store.close();
    },
  };
}
