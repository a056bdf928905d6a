import { LogLevelThreshold, Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { Logger } from '../../kernel/index.ts';
import { PROCESSOR_SERVICE } from './metric-names.ts';

type PowertoolsLevel = keyof typeof LogLevelThreshold;

/**
 * The level: `POWERTOOLS_LOG_LEVEL`, else `MAILROOM_LOG_LEVEL` (Mailroom's own setting, also read by the
 * console logger; `silent` works in both), else INFO. An unknown value is ignored.
 */
export function lambdaLogLevel(env: Record<string, string | undefined>): PowertoolsLevel {
  for (const value of [env.POWERTOOLS_LOG_LEVEL, env.MAILROOM_LOG_LEVEL]) {
    const level = value?.toUpperCase();
    if (level && Object.hasOwn(LogLevelThreshold, level)) return level as PowertoolsLevel;
  }
  return 'INFO';
}

/**
 * The keys that tie a line to a message: `correlation_id` is the message id when the entry names one
 * (`id`, as the pipeline logs it), else the SQS message id (`record`); the delivery's idempotency key
 * is logged as `delivery`.
 */
function correlation(data: Record<string, unknown> | undefined): Record<string, unknown> {
  const id = data?.id ?? data?.record;
  return typeof id === 'string' ? { correlation_id: id } : {};
}

/**
 * Mailroom's {@link Logger} port written by Powertools Logger: one JSON object per line on stdout with
 * `level`, `message`, `service` (`POWERTOOLS_SERVICE_NAME`, default `mailroom`), `timestamp`, the entry's
 * data and a `correlation_id`; once {@link addContext} has seen the invocation, `cold_start`, the
 * function's name and the request id too. The processing core only sees the port.
 */
export class LambdaLogger implements Logger {
  readonly #logger: PowertoolsLogger;

  constructor(env: Record<string, string | undefined> = process.env) {
    this.#logger = new PowertoolsLogger({
      serviceName: env.POWERTOOLS_SERVICE_NAME || PROCESSOR_SERVICE,
      logLevel: lambdaLogLevel(env),
    });
  }

  /** Adds the invocation's keys (cold start, request id, function) to the lines that follow. */
  addContext(context: Context): void {
    this.#logger.addContext(context);
  }

  debug(msg: string, data?: Record<string, unknown>): void {
    this.#logger.debug(msg, { ...data, ...correlation(data) });
  }

  info(msg: string, data?: Record<string, unknown>): void {
    this.#logger.info(msg, { ...data, ...correlation(data) });
  }

  warn(msg: string, data?: Record<string, unknown>): void {
    this.#logger.warn(msg, { ...data, ...correlation(data) });
  }

  error(msg: string, data?: Record<string, unknown>): void {
    this.#logger.error(msg, { ...data, ...correlation(data) });
  }
}
