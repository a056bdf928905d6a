import { MailroomError } from '../kernel/index.ts';

/**
 * The configuration is invalid (`problems` names every bad field; never retryable: the config must change), or its file could not be loaded (then
 * `problems` are the loader's lines and the message is those lines, without the "invalid" prefix).
 */
export class ConfigError extends MailroomError {
  override readonly name = 'ConfigError';
  constructor(
    readonly problems: string[],
    options?: { cause?: unknown; message?: string },
  ) {
    super(options?.message ?? `invalid Mailroom config: ${problems.join('; ')}`, {
      retryable: false,
      cause: options?.cause,
    });
  }
}
