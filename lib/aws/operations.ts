import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { type ProcessorSettings, readProcessorSettings } from './processor-settings.ts';

// The operations commands' side of the AWS adapters (`mailroom replay --stack`, `mailroom redrive`): the
// CLI loads this one file on demand, so that neither `mailroom/aws` nor the processing Lambda loads the
// CloudFormation and SQS clients.
export {
  type AwsReplayer,
  createAwsReplayer,
  type OpenAwsReplayOptions,
  openAwsReplay,
  type ReplayOutcome,
} from './aws-replay.ts';
export { RedriveError, StackOutputsError } from './operations-errors.ts';
export { type FunctionConfigurationClient, readProcessorSettings } from './processor-settings.ts';
export { type RedriveReport, redriveDeadLetters } from './sqs-redrive.ts';
export {
  type DescribeStacksClient,
  readStackOutputs,
  STACK_OUTPUT_KEYS,
  stackResources,
} from './stack-outputs.ts';

/** An SQS client with the SDK's default credentials and region (for `mailroom redrive`). */
export function sqsClient(): SQSClient {
  return new SQSClient({});
}

/** The deployed processor's settings, read with the SDK's default credentials and region. */
export async function deployedProcessorSettings(functionName: string): Promise<ProcessorSettings> {
  const lambda = new LambdaClient({});
  try {
    return await readProcessorSettings(lambda, functionName);
  } finally {
    lambda.destroy();
  }
}
