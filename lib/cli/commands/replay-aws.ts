import { loadCliConfig } from '../config-path.ts';
import { createConsoleLogger } from '../console-logger.ts';
import { CliError, UsageError } from '../errors.ts';
import type { ReplayArgs } from './replay.usage.ts';

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `--since`: an ISO 8601 date (or date and time), or a duration back from `now` (`90m`, `24h`, `7d`).
 * @throws UsageError for anything else.
 */
export function sinceOption(value: string, now: Date = new Date()): string {
  const duration = /^(\d+)([smhd])$/.exec(value.trim());
  if (duration) return new Date(now.getTime() - Number(duration[1]) * UNITS[duration[2]!]!).toISOString();
  const at = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at)) {
    throw new UsageError(`--since must be an ISO date or a duration like 24h, 30m or 7d, got '${value}'`);
  }
  return new Date(at).toISOString();
}

/** The option combinations the AWS replay refuses, one line each. */
function checkOptions(values: ReplayArgs['values']): void {
  for (const name of ['data', 'http-port'] as const) {
    if (values[name] !== undefined) throw new UsageError(`--${name} is for a local replay, not with --stack`);
  }
  if (values.stack === undefined && (values.table === undefined || values.bucket === undefined)) {
    throw new UsageError('give --stack NAME, or both --table and --bucket');
  }
  if (values.since !== undefined && !values.failed) throw new UsageError('--since goes with --failed');
}

/** `mailroom replay --stack NAME <id> | --failed [--since WHEN]`: see `aws-replay.ts`. */
export async function replayOnAwsCommand(
  values: ReplayArgs['values'],
  id: string | undefined,
): Promise<number> {
  checkOptions(values);
  const { deployedProcessorSettings, openAwsReplay, stackResources } = await import(
    '../../aws/operations.ts'
  );
  const since = values.since === undefined ? undefined : sinceOption(values.since);
  // Every SDK client made from here on (S3, DynamoDB, the actions' and SES's) uses the region given.
  if (values.region !== undefined) process.env.AWS_REGION = values.region;
  const explicit = {
    ...(values.table === undefined ? {} : { table: values.table }),
    ...(values.bucket === undefined ? {} : { rawBucket: values.bucket }),
  };
  const stack = values.stack === undefined ? undefined : { name: values.stack };
  const where = await stackResources(['table', 'rawBucket'], explicit, stack);
  const config = await loadCliConfig(values.config);
  // The stack names its processor: share its settings (forward() sender, reply configuration set, events).
  const settings = where.processorFunction
    ? await deployedProcessorSettings(where.processorFunction)
    : undefined;
  const replayer = await openAwsReplay({
    ...(settings ? { settings } : {}),
    config,
    tableName: where.table,
    rawBucket: where.rawBucket,
    logger: createConsoleLogger('warn'),
  });
  try {
    const ids = id ? [id] : await replayer.listFailed(since);
    let allProcessed = true;
    for (const one of ids) {
      const outcome = await replayer.replay(one);
      if (outcome.status === null) throw new CliError(`no message ${one} in table ${where.table}`);
      if (outcome.status !== 'processed') allProcessed = false;
      process.stdout.write(`${JSON.stringify(outcome)}\n`);
    }
    return allProcessed ? 0 : 1;
  } finally {
    await replayer.close();
  }
}
