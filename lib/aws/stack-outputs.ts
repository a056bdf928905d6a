/**
 * Where a deployed Mailroom stack's resources are, read from its CloudFormation outputs (`MailroomStack`
 * declares them: `Table`, `RawBucket`, `Queue`, `DeadLetterQueue`, `ProcessorFunction`, and `ReadApiUrl` with
 * a read API). Used by the operations commands (`mailroom replay --stack`, `mailroom redrive --stack`) and
 * the read API's (`mailroom messages --stack`, `mailroom message --stack`).
 */
import {
  CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { errorText } from '../kernel/index.ts';
import { StackOutputsError } from './operations-errors.ts';

/** The stack outputs an operation reads, by their output key. */
export const STACK_OUTPUT_KEYS = {
  table: 'Table',
  rawBucket: 'RawBucket',
  queueUrl: 'Queue',
  deadLetterQueueUrl: 'DeadLetterQueue',
  processorFunction: 'ProcessorFunction',
  /** Only when the pipeline has `readApi`. */
  readApiUrl: 'ReadApiUrl',
} as const;

export type StackResource = keyof typeof STACK_OUTPUT_KEYS;

/** What {@link readStackOutputs} needs of a CloudFormation client (tests give a stub). */
export interface DescribeStacksClient {
  send(command: DescribeStacksCommand): Promise<DescribeStacksCommandOutput>;
}

/** The resources a stack names; those without an output are missing. */
export type StackResources = Partial<Record<StackResource, string>>;

/**
 * Reads the outputs of stack `stackName` and returns the resources named in `needed` (plus any other the
 * stack outputs).
 * @throws StackOutputsError when the stack cannot be described or lacks one of `needed`.
 */
export async function readStackOutputs(
  client: DescribeStacksClient,
  stackName: string,
  needed: readonly StackResource[],
): Promise<StackResources> {
  let out: DescribeStacksCommandOutput;
  try {
    out = await client.send(new DescribeStacksCommand({ StackName: stackName }));
  } catch (cause) {
    throw new StackOutputsError(`cannot read stack ${stackName}: ${errorText(cause)}`, { cause });
  }
  const stack = out.Stacks?.[0];
  if (!stack) throw new StackOutputsError(`no stack ${stackName}`);
  const byKey = new Map((stack.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue]));
  const resources: StackResources = {};
  for (const [resource, key] of Object.entries(STACK_OUTPUT_KEYS) as Array<[StackResource, string]>) {
    const value = byKey.get(key);
    if (value) resources[resource] = value;
  }
  const missing = needed.filter((r) => !resources[r]).map((r) => STACK_OUTPUT_KEYS[r]);
  if (missing.length) {
    throw new StackOutputsError(
      `stack ${stackName} has no output ${missing.join(', ')} (deployed with an older Mailroom? deploy again)`,
    );
  }
  return resources;
}

/** Which stack to read, and how (the client defaults to the SDK's, with its default region and credentials). */
export interface StackLookup {
  name: string;
  /** @default a new CloudFormationClient */
  client?: DescribeStacksClient;
}

/**
 * The resources an operation works on: those named explicitly (options), the rest from the stack's
 * outputs when a stack is named. CloudFormation is asked only when something is left to find.
 * @throws StackOutputsError when the stack cannot tell one of `needed`, or no stack is named for them.
 */
export async function stackResources<R extends StackResource>(
  needed: readonly R[],
  explicit: StackResources,
  stack: StackLookup | undefined,
): Promise<StackResources & Record<R, string>> {
  const missing = needed.filter((r) => !explicit[r]);
  if (missing.length === 0) return explicit as StackResources & Record<R, string>;
  if (!stack) {
    const names = missing.map((r) => STACK_OUTPUT_KEYS[r]).join(', ');
    throw new StackOutputsError(`no stack named to find ${names} in`);
  }
  const client = stack.client ?? new CloudFormationClient({});
  const fromStack = await readStackOutputs(client, stack.name, missing);
  return { ...fromStack, ...explicit } as StackResources & Record<R, string>;
}
