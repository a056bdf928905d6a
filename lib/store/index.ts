export { SchemaVersionError } from './errors.ts';
export { LocalRawStore, type LocalRawStoreOptions } from './local-raw-store.ts';
export { MemoryRawStore } from './memory-raw-store.ts';
export { MESSAGE_ID_PATTERN, newMessageId } from './message-id.ts';
export {
  SQLITE_SCHEMA_VERSION,
  SqliteMessageStore,
  type SqliteMessageStoreOptions,
} from './sqlite-message-store.ts';
export type {
  DeliveryRecord,
  DeliveryStatus,
  MailboxEntry,
  MessageDetail,
  MessageStatus,
  MessageStore,
  MessageSummary,
  OutboxEntry,
  OutboxSummary,
  RawStore,
  TraceEntry,
} from './types.ts';
