// Local retention: which messages and attachments go, and removing them everywhere they are kept (records,
// raw bytes, attachment content). On AWS the S3 lifecycle and DynamoDB TTL do this instead.
import type { AttachmentStore } from './attachment-store.ts';
import type { MessageHousekeeping, MessageRecords } from './message-store.ts';
import type { DeletableRawStore } from './types.ts';

/** How long messages are kept (the config's `retention`); a limit left out does not apply. */
export interface RetentionPolicy {
  /** Messages received longer ago than this many days go. */
  maxAgeDays?: number;
  /** Only the newest this many messages are kept. */
  maxMessages?: number;
  /**
   * An attachment no message references is deleted only once it was last used (stored, or stored again
   * by another message) longer ago than this: an attachment being stored for a message not yet saved
   * survives. @default 1
   */
  attachmentGraceHours?: number;
}

/** `mailroom dev` without a `retention` config: Mailpit's default, the newest 500 messages. */
export const DEV_RETENTION: RetentionPolicy = { maxMessages: 500 };
export const DEFAULT_ATTACHMENT_GRACE_HOURS = 1;

/** What a prune removed (or, in a dry run, would remove). */
export interface PruneResult {
  messages: number;
  /** Raw bytes freed (a dry run counts the messages' recorded sizes). */
  rawBytes: number;
  attachments: number;
  attachmentBytes: number;
  dryRun: boolean;
}

/** The store's ports retention uses. */
export type RetentionRecords = MessageHousekeeping & Pick<MessageRecords, 'getMessage'>;

export interface PruneOptions {
  store: RetentionRecords;
  rawStore: DeletableRawStore;
  /** Without it, attachments are left alone. */
  attachments?: AttachmentStore;
  retention: RetentionPolicy;
  now: Date;
  /** Count what would go; change nothing. @default false */
  dryRun?: boolean;
}

const HOUR_MS = 60 * 60 * 1000;

/**
 * Deletes the messages the policy expires (only finished ones: `listExpired` never lists a message still
 * in the pipeline), then every stored attachment that no remaining message references and that was last
 * used longer ago than the grace period.
 */
export async function pruneMessages(options: PruneOptions): Promise<PruneResult> {
  const { store, retention, now } = options;
  const dryRun = options.dryRun ?? false;
  const expired = await store.listExpired({
    ...(retention.maxAgeDays !== undefined
      ? { receivedBefore: new Date(now.getTime() - retention.maxAgeDays * 24 * HOUR_MS).toISOString() }
      : {}),
    ...(retention.maxMessages !== undefined ? { keepNewest: retention.maxMessages } : {}),
  });
  const removed = dryRun
    ? { messages: expired.length, rawBytes: await recordedSizes(store, expired) }
    : await deleteStoredMessages({ store, rawStore: options.rawStore, ids: expired });
  const attachments = options.attachments
    ? await pruneAttachments({
        store,
        attachments: options.attachments,
        now,
        graceHours: retention.attachmentGraceHours ?? DEFAULT_ATTACHMENT_GRACE_HOURS,
        dryRun,
        ...(dryRun ? { excluding: expired } : {}),
      })
    : { attachments: 0, attachmentBytes: 0 };
  return { ...removed, ...attachments, dryRun };
}

/**
 * Deletes messages everywhere: the raw bytes first, then the records. In that order a crash in between
 * leaves a record without bytes (deleted by the next prune) — never bytes without a record, which the
 * pipeline's recovery would take for mail that never got one and process again.
 */
export async function deleteStoredMessages(options: {
  store: MessageHousekeeping;
  rawStore: DeletableRawStore;
  ids: readonly string[];
}): Promise<{ messages: number; rawBytes: number }> {
  let messages = 0;
  let rawBytes = 0;
  for (const id of options.ids) {
    rawBytes += await options.rawStore.delete(id);
    if (await options.store.deleteMessage(id)) messages++;
  }
  return { messages, rawBytes };
}

/**
 * Deletes every stored attachment that no message references and that was last used before
 * `now - graceHours`.
 * @param options.excluding count these messages' references as gone (a dry run's expired messages).
 */
export async function pruneAttachments(options: {
  store: Pick<MessageHousekeeping, 'referencedAttachments'>;
  attachments: AttachmentStore;
  now: Date;
  graceHours: number;
  dryRun?: boolean;
  excluding?: readonly string[];
}): Promise<{ attachments: number; attachmentBytes: number }> {
  // Referenced first, listed after: an attachment committed in between was used just now (grace).
  const referenced = await options.store.referencedAttachments(
    options.excluding ? { excluding: options.excluding } : undefined,
  );
  const cutoff = options.now.getTime() - options.graceHours * HOUR_MS;
  const unused: Array<{ sha256: string; size: number }> = [];
  for await (const stored of options.attachments.list()) {
    const lastUsed = Date.parse(stored.lastUsedAt);
    if (referenced.has(stored.sha256) || !(lastUsed < cutoff)) continue;
    unused.push(stored);
  }
  let attachmentBytes = 0;
  for (const stored of unused) {
    if (!options.dryRun) await options.attachments.delete(stored.sha256);
    attachmentBytes += stored.size;
  }
  return { attachments: unused.length, attachmentBytes };
}

async function recordedSizes(store: RetentionRecords, ids: readonly string[]): Promise<number> {
  let total = 0;
  for (const id of ids) total += (await store.getMessage(id))?.size ?? 0;
  return total;
}
