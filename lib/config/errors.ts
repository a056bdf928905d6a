/** The configuration is invalid; `problems` names every bad field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly problems: string[],
    options?: { cause?: unknown },
  ) {
    super(`invalid Mailroom config: ${problems.join('; ')}`, options);
  }
}
