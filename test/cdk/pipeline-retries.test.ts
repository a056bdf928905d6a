import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { MailroomPipeline } from '../../cdk/index.ts';
import { EXAMPLE_CONFIG, testStack } from './support.ts';

describe('MailroomPipeline retries', () => {
  it('tells the processor its queue and lets it send (reschedule) messages there', () => {
    const stack = testStack();
    new MailroomPipeline(stack, 'Pipeline', { configFile: EXAMPLE_CONFIG });
    const t = Template.fromStack(stack);
    const queues = t.findResources('AWS::SQS::Queue');
    const main = Object.keys(queues).find((id) => /PipelineQueue/.test(id) && !/DeadLetter/.test(id));
    expect(main).toBeDefined();
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MAILROOM_QUEUE_URL: { Ref: main } }) },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('ProcessorRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:SendMessage']),
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [main, 'Arn'] },
          }),
        ]),
      },
    });
  });
});
