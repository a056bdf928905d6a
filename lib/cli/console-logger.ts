import type { Logger } from '../kernel/index.ts';

const levels = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof levels;

/**
 * One JSON line per entry on stderr.
 * @param level minimum level. @default process.env.MAILROOM_LOG_LEVEL ?? 'info'
 */
export function createConsoleLogger(level?: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  const envLevel = process.env.MAILROOM_LOG_LEVEL as LogLevel | undefined;
  const min = levels[level ?? (envLevel && Object.hasOwn(levels, envLevel) ? envLevel : 'info')];
  const write = (lvl: Exclude<LogLevel, 'silent'>, msg: string, data?: Record<string, unknown>) => {
    if (levels[lvl] < min) return;
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...bindings, ...data })}\n`,
    );
  };
  return {
    debug: (msg, data) => write('debug', msg, data),
    info: (msg, data) => write('info', msg, data),
    warn: (msg, data) => write('warn', msg, data),
    error: (msg, data) => write('error', msg, data),
  };
}

/** What is wrong with `MAILROOM_LOG_LEVEL`, if anything (the logger then uses `info`). */
export function logLevelProblem(env: NodeJS.ProcessEnv = process.env): string | null {
  const value = env.MAILROOM_LOG_LEVEL;
  if (value === undefined || value === '' || Object.hasOwn(levels, value)) return null;
  return `MAILROOM_LOG_LEVEL must be one of ${Object.keys(levels).join(', ')}, got '${value}'; logging at info`;
}
