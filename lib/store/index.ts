export type { AttachmentStore, AttachmentUpload } from './attachment-store.ts';
export { AttachmentUploadError, MessageQueryError, SchemaVersionError } from './errors.ts';
export { LocalAttachmentStore } from './local-attachment-store.ts';
export { deleteRawFiles, LocalRawStore, type LocalRawStoreOptions } from './local-raw-store.ts';
export { MemoryAttachmentStore } from './memory-attachment-store.ts';
export { MemoryRawStore } from './memory-raw-store.ts';
export { MESSAGE_ID_PATTERN, newMessageId } from './message-id.ts';
export type {
  ArrivalRecord,
  Deliveries,
  Mailboxes,
  MessageHousekeeping,
  MessageQuery,
  MessageRecords,
  MessageStore,
  Outbox,
  Threads,
} from './message-store.ts';
export type {
  DeliveryRecord,
  DeliveryStatus,
  MailboxEntry,
  MessageDetail,
  MessageStatus,
  MessageSummary,
  OutboxEntry,
  OutboxSummary,
  TraceEntry,
} from './records.ts';
export {
  DEFAULT_ATTACHMENT_GRACE_HOURS,
  DEV_RETENTION,
  deleteStoredMessages,
  type PruneOptions,
  type PruneResult,
  pruneAttachments,
  pruneMessages,
  type RetentionPolicy,
  type RetentionRecords,
} from './retention.ts';
export { PRUNE_INTERVAL_MS, type PruneSchedule, schedulePruning } from './retention-schedule.ts';
export {
  SQLITE_SCHEMA_VERSION,
  SqliteMessageStore,
  type SqliteMessageStoreOptions,
} from './sqlite-message-store.ts';
// The policy and record mapping every backend shares (the DynamoDB store in lib/aws implements primitives).
export {
  deliveryRecord,
  json,
  mailboxEntry,
  messageCursor,
  messageDetail,
  messageSummary,
  outboxSummary,
  parseMessageCursor,
  type StoredDelivery,
  type StoredMailboxEntry,
  type StoredMessage,
  storedDelivery,
  storedMailboxData,
} from './stored-records.ts';
export {
  type FiledMessage,
  fileInThread,
  fileInThreadSync,
  type SyncThreadStorage,
  type ThreadLookup,
  type ThreadStorage,
  threadLookups,
} from './thread-filing.ts';
export { type ThreadKeys, threadKeys } from './thread-keys.ts';
export type { DeletableRawStore, RawPutOptions, RawStore } from './types.ts';
