import * as z from 'zod';
import { defineActionKind } from '../action-kind.ts';

/** The levels a `log()` action writes at: the methods of `Logger`. */
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Write one line about the message to the delivery's logger (useful while developing routes). */
export interface LogAction {
  kind: 'log';
  /** @default 'info' */
  level?: LogLevel;
}

/** Log the message's id, route and subject at `level`, and deliver nothing else. */
export function log(level: LogLevel = 'info'): LogAction {
  return { kind: 'log', level };
}

/** `log()`: one line on the delivery's logger (`message <id> routed by <route>: <subject>`); `delivered`. */
export const logKind = defineActionKind<LogAction>({
  kind: 'log',
  schema: z.object({ kind: z.literal('log'), level: z.enum(LOG_LEVELS).optional() }),
  target: (action) => action.level ?? 'info',
  describe: (action) => ({ level: action.level ?? 'info' }),
  async run(action, run) {
    const level = action.level ?? 'info';
    const subject = run.message.subject ?? '(no subject)';
    run.logger[level](`message ${run.messageId} routed by ${run.route}: ${subject}`, {
      id: run.messageId,
      route: run.route,
      subject: run.message.subject,
      delivery: run.idempotencyKey,
    });
    return { status: 'delivered', detail: `logged at ${level}` };
  },
});
