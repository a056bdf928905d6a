/** Mailroom's logging port: the console logger, Powertools' Logger or a test's recorder. */
export interface Logger {
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

/** A logger that adds `bindings` to every entry's data. */
export function childLogger(parent: Logger, bindings: Record<string, unknown>): Logger {
  return {
    debug: (msg, data) => parent.debug(msg, { ...bindings, ...data }),
    info: (msg, data) => parent.info(msg, { ...bindings, ...data }),
    warn: (msg, data) => parent.warn(msg, { ...bindings, ...data }),
    error: (msg, data) => parent.error(msg, { ...bindings, ...data }),
  };
}

/** A logger that discards everything. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
