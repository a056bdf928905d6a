/**
 * The AWS side of `mailroom replay --stack` and `mailroom redrive` with stubbed clients: no CloudFormation
 * emulator runs here, and sqslite (the SQS emulator of the integration tests) has no StartMessageMoveTask,
 * so both are stubs that answer the way the services document.
 */
import type { DescribeStacksCommand, DescribeStacksCommandOutput } from '@aws-sdk/client-cloudformation';
import type {
  GetFunctionConfigurationCommand,
  GetFunctionConfigurationCommandOutput,
} from '@aws-sdk/client-lambda';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { storedObject } from '../../../lib/aws/aws-replay.ts';
import { RedriveError, StackOutputsError } from '../../../lib/aws/operations-errors.ts';
import { readProcessorSettings } from '../../../lib/aws/processor-settings.ts';
import { redriveDeadLetters } from '../../../lib/aws/sqs-redrive.ts';
import { readStackOutputs, stackResources } from '../../../lib/aws/stack-outputs.ts';
import type { MessageDetail } from '../../../lib/store/index.ts';
import { newMessageId } from '../../../lib/store/message-id.ts';

const OUTPUTS = [
  { OutputKey: 'MxHost', OutputValue: 'inbound-smtp.us-east-1.amazonaws.com' },
  { OutputKey: 'Table', OutputValue: 'Mailroom-PipelineTable-1ABC' },
  { OutputKey: 'RawBucket', OutputValue: 'mailroom-pipelinebucket-xyz' },
  { OutputKey: 'Queue', OutputValue: 'https://sqs.us-east-1.amazonaws.com/123456789012/Mailroom-Queue' },
  {
    OutputKey: 'DeadLetterQueue',
    OutputValue: 'https://sqs.us-east-1.amazonaws.com/123456789012/Mailroom-DLQ',
  },
];

/** A CloudFormation client that knows one stack, and counts its calls. */
function cloudFormation(outputs = OUTPUTS) {
  const asked: string[] = [];
  return {
    asked,
    async send(command: DescribeStacksCommand): Promise<DescribeStacksCommandOutput> {
      const name = command.input.StackName ?? '';
      asked.push(name);
      if (name !== 'Mailroom') {
        throw Object.assign(new Error(`Stack with id ${name} does not exist`), { name: 'ValidationError' });
      }
      return {
        $metadata: {},
        Stacks: [
          { StackName: name, Outputs: outputs, StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date() },
        ],
      };
    },
  };
}

describe('stack outputs', () => {
  it('reads the resources from the outputs, by the keys MailroomStack declares', async () => {
    expect(await readStackOutputs(cloudFormation(), 'Mailroom', ['table', 'rawBucket'])).toEqual({
      table: 'Mailroom-PipelineTable-1ABC',
      rawBucket: 'mailroom-pipelinebucket-xyz',
      queueUrl: OUTPUTS[3]!.OutputValue,
      deadLetterQueueUrl: OUTPUTS[4]!.OutputValue,
    });
  });

  it('explicit names win, and CloudFormation is not asked when nothing is left to find', async () => {
    const cf = cloudFormation();
    const both = { table: 'T', rawBucket: 'B' };
    expect(await stackResources(['table', 'rawBucket'], both, { name: 'Mailroom', client: cf })).toEqual(
      both,
    );
    expect(cf.asked).toEqual([]);
    const mixed = await stackResources(
      ['table', 'rawBucket'],
      { table: 'T' },
      { name: 'Mailroom', client: cf },
    );
    expect(mixed).toMatchObject({ table: 'T', rawBucket: 'mailroom-pipelinebucket-xyz' });
    expect(cf.asked).toEqual(['Mailroom']);
  });

  it('says which output an older stack lacks, and why a stack cannot be read', async () => {
    const older = cloudFormation(OUTPUTS.slice(0, 3));
    await expect(
      stackResources(['queueUrl', 'deadLetterQueueUrl'], {}, { name: 'Mailroom', client: older }),
    ).rejects.toThrow(
      new StackOutputsError(
        'stack Mailroom has no output Queue, DeadLetterQueue (deployed with an older Mailroom? deploy again)',
      ),
    );
    await expect(stackResources(['table'], {}, { name: 'Other', client: cloudFormation() })).rejects.toThrow(
      /^cannot read stack Other: .*does not exist/,
    );
    await expect(stackResources(['table'], {}, undefined)).rejects.toThrow('no stack named to find Table in');
  });
});

type Sent = { name: string; input: Record<string, unknown> };

/** An SQS client that runs a move task: RUNNING on the first progress read, then `final`. */
function moveTaskSqs(final: { Status: string; moved: number; FailureReason?: string }) {
  const sent: Sent[] = [];
  let reads = 0;
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const name = command.constructor.name.replace(/Command$/, '');
      sent.push({ name, input: command.input });
      switch (name) {
        case 'GetQueueAttributes':
          return {
            Attributes: {
              QueueArn: `arn:aws:sqs:us-east-1:123456789012:${String(command.input.QueueUrl).split('/').pop()}`,
            },
          };
        case 'StartMessageMoveTask':
          return { TaskHandle: 'handle-1' };
        case 'ListMessageMoveTasks': {
          const running = reads++ === 0;
          return {
            Results: [
              running
                ? { Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 1 }
                : {
                    Status: final.Status,
                    ApproximateNumberOfMessagesMoved: final.moved,
                    FailureReason: final.FailureReason,
                  },
            ],
          };
        }
        default:
          throw new Error(`unexpected ${name}`);
      }
    },
  };
  return { sqs: client as unknown as SQSClient, sent };
}

const QUEUES = { queueUrl: 'https://sqs/123/main', deadLetterQueueUrl: 'https://sqs/123/dlq', pollMs: 1 };

describe('redrive with StartMessageMoveTask', () => {
  it('starts a move task from the DLQ to the main queue and reports its count once it completed', async () => {
    const { sqs, sent } = moveTaskSqs({ Status: 'COMPLETED', moved: 7 });
    expect(await redriveDeadLetters({ sqs, ...QUEUES })).toEqual({
      moved: 7,
      method: 'StartMessageMoveTask',
    });
    expect(sent.find((s) => s.name === 'StartMessageMoveTask')?.input).toEqual({
      SourceArn: 'arn:aws:sqs:us-east-1:123456789012:dlq',
      DestinationArn: 'arn:aws:sqs:us-east-1:123456789012:main',
    });
    expect(sent.filter((s) => s.name === 'ListMessageMoveTasks')).toHaveLength(2);
    expect(sent.some((s) => s.name === 'ReceiveMessage')).toBe(false);
  });

  it('a failed task is a RedriveError with the count and the reason', async () => {
    const { sqs } = moveTaskSqs({ Status: 'FAILED', moved: 3, FailureReason: 'AccessDenied on kms:Decrypt' });
    const err = await redriveDeadLetters({ sqs, ...QUEUES }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedriveError);
    expect(err).toMatchObject({
      moved: 3,
      message: 'the move task failed after 3: AccessDenied on kms:Decrypt',
    });
  });

  it('with max, receives, sends and deletes instead (a move task cannot be bounded)', async () => {
    const { sqs, sent } = moveTaskSqs({ Status: 'COMPLETED', moved: 7 });
    // The stub has no ReceiveMessage: the loop's first call fails, and says so.
    const err = await redriveDeadLetters({ sqs, ...QUEUES, max: 5 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ moved: 0, message: 'redrive stopped after 0: unexpected ReceiveMessage' });
    expect(sent.map((s) => s.name)).toEqual(['ReceiveMessage']);
  });
});

describe('where a replayed message is stored', () => {
  const message = (id: string, received?: string) =>
    ({
      id,
      trace: received ? [{ at: '', step: 'received', detail: received }] : [],
    }) as unknown as MessageDetail;
  const options = { rawBucket: 'raw' };

  it('the received trace entry names the object (an SES S3 action may write to its own bucket)', () => {
    const ses = message(
      'abc123',
      '2048 bytes from <a@b.test> for t@example.com (Amazon SES, s3://ses-bucket/in/abc123)',
    );
    expect(storedObject(ses, options)).toEqual({
      origin: 'ses',
      object: { bucket: 'ses-bucket', key: 'in/abc123' },
    });
    const smtp = message('x', '9 bytes from <> for t@example.com (mailroom smtp, s3://raw/smtp/x.eml)');
    expect(storedObject(smtp, options)).toEqual({
      origin: 'smtp',
      object: { bucket: 'raw', key: 'smtp/x.eml' },
    });
  });

  it("without one, the ingresses' default keys: Mailroom ids under smtp/, SES message ids under ses/", () => {
    const id = newMessageId();
    expect(storedObject(message(id), options)).toEqual({
      origin: 'smtp',
      object: { bucket: 'raw', key: `smtp/${id}.eml` },
    });
    expect(storedObject(message('0100018f-ses-id'), { ...options, sesPrefix: 'mail/' })).toEqual({
      origin: 'ses',
      object: { bucket: 'raw', key: 'mail/0100018f-ses-id' },
    });
  });
});

describe("the deployed processor's settings", () => {
  const lambda = (variables: Record<string, string>) => ({
    async send(command: GetFunctionConfigurationCommand): Promise<GetFunctionConfigurationCommandOutput> {
      expect(command.input.FunctionName).toBe('Mailroom-Processor');
      return { $metadata: {}, Environment: { Variables: variables } };
    },
  });

  it('are read from its environment, with the defaults for what is unset', async () => {
    const env = {
      MAILROOM_TABLE: 'T',
      MAILROOM_RAW_BUCKET: 'B',
      MAILROOM_FORWARD_FROM: 'forwarder@example.com',
      MAILROOM_EVENT_BUS: 'mailroom-bus',
      MAILROOM_REPLY_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:k',
    };
    expect(await readProcessorSettings(lambda(env), 'Mailroom-Processor')).toEqual({
      MAILROOM_SMTP_PREFIX: 'smtp/',
      MAILROOM_SES_PREFIX: 'ses/',
      MAILROOM_FORWARD_FROM: 'forwarder@example.com',
      MAILROOM_EVENT_BUS: 'mailroom-bus',
    });
  });

  it("a function that is not Mailroom's processor is named", async () => {
    await expect(readProcessorSettings(lambda({}), 'Mailroom-Processor')).rejects.toThrow(
      /^cannot read the processor Mailroom-Processor's settings: processor environment: MAILROOM_RAW_BUCKET: required/,
    );
  });
});
