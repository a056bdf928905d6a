import { UsageError } from '../errors.ts';
import type { RedriveArgs } from './redrive.usage.ts';

function maxOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1)
    throw new UsageError(`--max must be a whole number above 0, got '${value}'`);
  return n;
}

/** `mailroom redrive`: see `lib/aws/sqs-redrive.ts`. */
export async function redriveCommand({ values }: RedriveArgs): Promise<number> {
  if (values.stack === undefined && (values['dlq-url'] === undefined || values['queue-url'] === undefined)) {
    throw new UsageError('give --stack NAME, or both --dlq-url and --queue-url');
  }
  const max = maxOption(values.max);
  const { redriveDeadLetters, RedriveError, sqsClient, stackResources } = await import(
    '../../aws/operations.ts'
  );
  // Every SDK client made from here on uses the region given.
  if (values.region !== undefined) process.env.AWS_REGION = values.region;
  const where = await stackResources(
    ['deadLetterQueueUrl', 'queueUrl'],
    {
      ...(values['dlq-url'] === undefined ? {} : { deadLetterQueueUrl: values['dlq-url'] }),
      ...(values['queue-url'] === undefined ? {} : { queueUrl: values['queue-url'] }),
    },
    values.stack === undefined ? undefined : { name: values.stack },
  );
  const sqs = sqsClient();
  try {
    const report = await redriveDeadLetters({
      sqs,
      deadLetterQueueUrl: where.deadLetterQueueUrl,
      queueUrl: where.queueUrl,
      ...(max === undefined ? {} : { max }),
    });
    const note = report.note ? ` (${report.note})` : '';
    process.stdout.write(`moved ${report.moved} message(s) with ${report.method}${note}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof RedriveError)) throw err;
    process.stdout.write(`moved ${err.moved} message(s), then stopped: ${err.message}\n`);
    return 1;
  } finally {
    sqs.destroy();
  }
}
