import type { Duration } from 'aws-cdk-lib';
import { Token } from 'aws-cdk-lib';
import { PROCESSOR_ENTRY } from './package-files.ts';
import type { MailroomPipelineProps } from './pipeline-props.ts';
import type { PropsProblems } from './props-error.ts';
import { isFile } from './user-project.ts';

/** Props with their defaults applied. */
export interface ResolvedPipelineProps {
  readonly retentionDays: number;
  readonly processorTimeout: Duration;
  readonly visibilityTimeout: Duration;
}

/** Records every problem of `props` and throws them together. */
export function validatePipelineProps(
  props: MailroomPipelineProps,
  r: ResolvedPipelineProps,
  problems: PropsProblems,
): void {
  const isInt = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max;

  problems.check(
    Number.isInteger(r.retentionDays) && r.retentionDays > 0,
    `retentionDays must be a positive integer, got ${r.retentionDays}`,
  );
  const batchSize = props.batchSize ?? 10;
  problems.check(
    isInt(batchSize, 1, 10_000),
    `batchSize must be an integer from 1 to 10000, got ${batchSize}`,
  );
  const windowSeconds = props.maxBatchingWindow?.toSeconds() ?? 0;
  problems.check(windowSeconds <= 300, `maxBatchingWindow must be at most 5 minutes, got ${windowSeconds} s`);
  problems.check(
    !(batchSize > 10 && windowSeconds < 1),
    `batchSize above 10 (got ${batchSize}) needs a maxBatchingWindow of at least 1 second`,
  );
  const maxReceiveCount = props.maxReceiveCount ?? 5;
  problems.check(
    isInt(maxReceiveCount, 1, 1000),
    `maxReceiveCount must be an integer from 1 to 1000, got ${maxReceiveCount}`,
  );
  validateScale(props, problems);
  const memory = props.processorMemorySize ?? 1024;
  problems.check(
    isInt(memory, 128, 10_240),
    `processorMemorySize must be an integer from 128 to 10240 MiB, got ${memory}`,
  );
  const timeout = r.processorTimeout.toSeconds();
  problems.check(
    timeout >= 1 && timeout <= 900,
    `processorTimeout must be from 1 second to 15 minutes, got ${timeout} s`,
  );
  const visibility = r.visibilityTimeout.toSeconds();
  problems.check(
    visibility >= timeout * 6,
    `queueVisibilityTimeout must be at least 6 × processorTimeout (${timeout * 6} s), got ${visibility} s`,
  );
  problems.check(
    visibility <= 43_200,
    `queueVisibilityTimeout must be at most 12 hours, got ${visibility} s`,
  );
  if (props.queueAgeAlarmThreshold) {
    problems.check(props.queueAgeAlarmThreshold.toSeconds() > 0, 'queueAgeAlarmThreshold must be positive');
  }
  problems.check(
    isFile(PROCESSOR_ENTRY),
    `Mailroom's processor entry ${PROCESSOR_ENTRY} is missing (an installed package ships it in dist/)`,
  );
  if (props.bucket) {
    for (const name of ['versioned', 'serverAccessLogsBucket'] as const) {
      problems.check(
        props[name] === undefined,
        `${name} only applies to a bucket this construct creates; configure it on the bucket you passed`,
      );
    }
  }
  if (props.forwardFrom !== undefined) {
    problems.check(
      Token.isUnresolved(props.forwardFrom) || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.forwardFrom),
      `forwardFrom must be an email address, got ${JSON.stringify(props.forwardFrom)}`,
    );
  }
  for (const identity of props.replyIdentities ?? []) {
    problems.check(
      Token.isUnresolved(identity) || /^([^@\s]+@)?[^@\s]+\.[^@\s]+$/.test(identity),
      `replyIdentities: ${JSON.stringify(identity)} is not a domain or an email address`,
    );
  }
  problems.throwIfAny();
}

/** The processor's concurrency settings and log level. */
function validateScale(props: MailroomPipelineProps, problems: PropsProblems): void {
  const maxConcurrency = props.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY;
  problems.check(
    Token.isUnresolved(maxConcurrency) ||
      (Number.isInteger(maxConcurrency) && maxConcurrency >= 2 && maxConcurrency <= 1000),
    `maxConcurrency must be an integer from 2 to 1000 (the SQS event source's limits), got ${maxConcurrency}`,
  );
  const reserved = props.reservedConcurrency;
  if (reserved !== undefined && !Token.isUnresolved(reserved)) {
    problems.check(
      Number.isInteger(reserved) && reserved >= 1,
      `reservedConcurrency must be a positive integer, got ${reserved}`,
    );
    problems.check(
      reserved >= maxConcurrency,
      `reservedConcurrency (${reserved}) must be at least maxConcurrency (${maxConcurrency}): below it Lambda throttles the queue's invocations`,
    );
  }
  const level = props.processorLogLevel;
  problems.check(
    level === undefined || ['debug', 'info', 'warn', 'error'].includes(level),
    `processorLogLevel must be debug, info, warn or error, got ${JSON.stringify(level)}`,
  );
}

/** Processor invocations the queue may run at once when `maxConcurrency` is not given. */
export const DEFAULT_MAX_CONCURRENCY = 10;
