import { MailroomError } from '../kernel/index.ts';

/**
 * The deployed stack cannot tell where its resources are: CloudFormation refused or does not know the
 * stack, or the stack lacks an output an operation needs (deployed before the output existed: deploy
 * again, or name the resource with an option). Not retryable: the stack name, region or credentials are
 * to be fixed.
 */
export class StackOutputsError extends MailroomError {
  override readonly name = 'StackOutputsError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: false, cause: options.cause });
  }
}

/**
 * Moving messages from the dead-letter queue back failed part-way: `moved` says how many made it before.
 * Retryable: a message is deleted from the dead-letter queue only once it was sent to the main queue, so
 * running the redrive again moves the rest (a message may then arrive twice; processing is idempotent).
 */
export class RedriveError extends MailroomError {
  override readonly name = 'RedriveError';
  constructor(
    message: string,
    readonly moved: number,
    options: { cause?: unknown } = {},
  ) {
    super(message, { retryable: true, cause: options.cause });
  }
}
