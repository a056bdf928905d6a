// The shared vocabulary every module may import: envelope, logger, errors, package location.
// The kernel imports nothing from the rest of lib/.
export type { Envelope } from './envelope.ts';
export { errorText } from './error-text.ts';
export {
  isRetryable,
  MailroomError,
  type MailroomErrorOptions,
  type SmtpReply,
  smtpReplyLine,
} from './errors.ts';
export { childLogger, type Logger, silentLogger } from './logger.ts';
export { startModuleWorker, transferable, transferableCopy } from './module-worker.ts';
export {
  CODE_EXT,
  CODE_ROOT,
  MAILROOM_ENTRY_FILES,
  type MailroomSpecifier,
  PACKAGE_ROOT,
  RUNNING_FROM_SOURCE,
} from './package-root.ts';
export { PostBatcher, type PostTarget, unbatch } from './post-batcher.ts';
