/** The message module: pure (no I/O) parsing, reply extraction and threading of raw email. */

export { extractAttachment } from './attachment-extract.ts';
export type {
  AttachmentExtraction,
  AttachmentInfo,
  AttachmentSink,
  AttachmentSinkUpload,
  ParseOptions,
} from './attachment-sink.ts';
export { AttachmentExtractionError } from './errors.ts';
export {
  DEFAULT_PARSE_LIMITS,
  type LimitKind,
  MAX_LINES,
  type MimeScan,
  scanMimeLimits,
} from './mime-limits.ts';
export { PARSE_TIME_BUDGET_MS, parseMessage, parseTimeBudgetMs } from './parse-message.ts';
export { type ExtractedReply, extractReply } from './reply-text.ts';
export { safeFilename } from './safe-filename.ts';
export { normalizeSubject, type ThreadFields, threadId } from './thread-id.ts';
export type {
  Address,
  Attachment,
  AttachmentSourceEncoding,
  HeaderField,
  ParsedMessage,
  ParseLimits,
} from './types.ts';
