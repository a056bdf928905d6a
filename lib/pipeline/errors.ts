import { MailroomError } from '../kernel/index.ts';

/**
 * The pipeline could not do what was asked: it is closed (`retryable`: the message stays recorded and is
 * resumed by the next start), or the outcome of a message could not be recorded (`retryable`: the store
 * refused a write, the message is run again).
 */
export class PipelineError extends MailroomError {
  override readonly name = 'PipelineError';
  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { retryable: options.retryable ?? true, cause: options.cause });
  }
}
