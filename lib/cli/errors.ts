import { MailroomError } from '../kernel/index.ts';

/** A mistake by the person running the command: printed as one line, exit code 2, no stack trace. */
export class CliError extends MailroomError {
  override readonly name: string = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 2,
    options?: { cause?: unknown },
  ) {
    super(message, { retryable: false, cause: options?.cause });
  }
}

/**
 * A command line the command cannot take (an unknown option, a missing value or argument): printed as one
 * line followed by the command's usage line, exit code 2.
 */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
}
