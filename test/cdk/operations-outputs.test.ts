import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { MailroomStack } from '../../cdk/index.ts';
import { STACK_OUTPUT_KEYS } from '../../lib/aws/stack-outputs.ts';
import { EXAMPLE_CONFIG, testStack } from './support.ts';

/** The logical id of the one resource of `type` in the template. */
function logicalId(t: Template, type: string): string {
  const ids = Object.keys(t.findResources(type));
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

describe('the outputs mailroom replay --stack and mailroom redrive --stack read', () => {
  it('MailroomStack outputs every resource the operations commands look up, by the keys they use', () => {
    const scope = testStack().node.scope as IConstruct;
    const stack = new MailroomStack(scope, 'Mailroom-ops', {
      env: { account: '123456789012', region: 'us-east-1' },
      configFile: EXAMPLE_CONFIG,
      ingress: 'ses',
      domains: ['example.com'],
    });
    const t = Template.fromStack(stack);
    const outputs = t.findOutputs('*');
    const { readApiUrl: _optional, ...always } = STACK_OUTPUT_KEYS;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(Object.values(always)));
    expect(outputs.ReadApiUrl).toBeUndefined(); // only with pipeline.readApi (test/cdk/read-api.test.ts)

    const table = logicalId(t, 'AWS::DynamoDB::Table');
    const fn = Object.entries(t.findResources('AWS::Lambda::Function')).find(([, r]) =>
      JSON.stringify(r.Properties.Environment ?? {}).includes('MAILROOM_TABLE'),
    )?.[0];
    const queues = Object.entries(t.findResources('AWS::SQS::Queue'));
    const dlq = queues.find(([id]) => /DeadLetterQueue/.test(id))?.[0];
    const queue = queues.find(([, r]) => r.Properties.RedrivePolicy)?.[0];
    expect(outputs.Table?.Value).toEqual({ Ref: table });
    expect(outputs.ProcessorFunction?.Value).toEqual({ Ref: fn });
    expect(outputs.Queue?.Value).toEqual({ Ref: queue });
    expect(outputs.DeadLetterQueue?.Value).toEqual({ Ref: dlq });
    expect(outputs.RawBucket?.Value).toEqual({ Ref: expect.stringMatching(/Bucket/) });
  });
});
