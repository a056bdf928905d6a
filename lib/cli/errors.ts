/** A mistake by the person running the command: printed as one line, exit code 2, no stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 2,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
