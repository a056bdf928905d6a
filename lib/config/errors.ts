/**
 * The configuration is invalid (`problems` names every bad field), or its file could not be loaded (then
 * `problems` are the loader's lines and the message is those lines, without the "invalid" prefix).
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly problems: string[],
    options?: { cause?: unknown; message?: string },
  ) {
    super(
      options?.message ?? `invalid Mailroom config: ${problems.join('; ')}`,
      options && 'cause' in options ? { cause: options.cause } : undefined,
    );
  }
}
