import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { describe, expect, it } from 'vitest';
import {
  type CustomResourceEvent,
  type CustomResourceResponse,
  createHandler,
} from '../../cdk/handlers/activate-receipt-rule-set/index.mjs';
import {
  MailroomPipeline,
  MailroomPropsError,
  SES_RECEIVING_REGIONS,
  SesIngress,
  type SesIngressProps,
} from '../../cdk/index.ts';
import { EXAMPLE_CONFIG, onlyResource, testStack, thrown } from './support.ts';

function ingress(props: Partial<SesIngressProps> = {}, stack = testStack()) {
  const pipeline = new MailroomPipeline(stack, 'Pipeline', {
    configFile: EXAMPLE_CONFIG,
  });
  const construct = new SesIngress(stack, 'Ses', { pipeline, domains: ['example.com'], ...props });
  return { stack, construct, template: Template.fromStack(stack) };
}

describe('SesIngress', () => {
  it('stores accepted mail under ses/ and notifies an encrypted topic the queue subscribes to', () => {
    const { template: t } = ingress({ recipients: ['support@example.com', 'postmaster@example.com'] });
    const rule = onlyResource(t, 'AWS::SES::ReceiptRule').Properties;
    expect(rule.Rule).toEqual({
      Enabled: true,
      Recipients: ['support@example.com', 'postmaster@example.com'],
      ScanEnabled: true,
      TlsPolicy: 'Optional',
      Actions: [
        {
          S3Action: {
            BucketName: { Ref: expect.stringMatching(/RawBucket/) },
            ObjectKeyPrefix: 'ses/',
            TopicArn: { Ref: expect.stringMatching(/Topic/) },
          },
        },
      ],
    });
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const subscription = onlyResource(t, 'AWS::SNS::Subscription').Properties;
    expect(subscription.Protocol).toBe('sqs');
    expect(subscription.RawMessageDelivery).not.toBe(true);
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'ses.amazonaws.com' },
          }),
        ]),
      },
    });
  });

  it('lets only its own receipt rules in this account write ses/* into the bucket', () => {
    const { template: t } = ingress();
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: 's3:PutObject',
            Principal: { Service: 'ses.amazonaws.com' },
            Resource: {
              'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('RawBucket'), 'Arn'] }, '/ses/*']],
            },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': [
                    '',
                    Match.arrayWith([{ Ref: Match.stringLikeRegexp('RuleSet') }, ':receipt-rule/*']),
                  ],
                },
              },
            },
          },
        ]),
      },
    });
    // SES checks its permissions when the rule is created: the rule waits for the policies.
    const rule = Object.values(t.findResources('AWS::SES::ReceiptRule'))[0] as { DependsOn: string[] };
    expect(rule.DependsOn.some((d) => /RawBucketPolicy/.test(d))).toBe(true);
    expect(rule.DependsOn.some((d) => /TopicPolicy/.test(d))).toBe(true);
  });

  it('applies requireTls and scanEnabled', () => {
    const rule = onlyResource(
      ingress({ requireTls: true, scanEnabled: false }).template,
      'AWS::SES::ReceiptRule',
    );
    expect(rule.Properties.Rule).toMatchObject({
      TlsPolicy: 'Require',
      ScanEnabled: false,
      Recipients: ['example.com'],
    });
  });

  it('activates the rule set with a custom resource after the rule exists', () => {
    const { template: t } = ingress();
    const [activation] = Object.values(t.findResources('Custom::MailroomReceiptRuleSetActivation')) as {
      Properties: Record<string, unknown>;
      DependsOn: string[];
    }[];
    expect(activation?.Properties.RuleSetName).toEqual({ Ref: expect.stringMatching(/RuleSet/) });
    expect(activation?.DependsOn.some((d) => /SesRule/.test(d))).toBe(true);
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['ses:SetActiveReceiptRuleSet', 'ses:DescribeActiveReceiptRuleSet'],
            Resource: '*',
            Condition: { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } },
          },
        ]),
      },
    });
    t.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler', Runtime: 'nodejs22.x' });
  });

  it('publishes Easy DKIM and MX records when given the hosted zone', () => {
    const stack = testStack();
    const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', {
      hostedZoneId: 'Z123',
      zoneName: 'example.com',
    });
    const { template: t } = ingress(
      { hostedZone: zone, domains: ['example.com', 'mail.example.com'] },
      stack,
    );
    t.resourceCountIs('AWS::SES::EmailIdentity', 2);
    t.hasResourceProperties('AWS::SES::EmailIdentity', { EmailIdentity: 'mail.example.com' });
    t.resourceCountIs('AWS::Route53::RecordSet', 2 * 4);
    t.hasResourceProperties('AWS::Route53::RecordSet', {
      Type: 'MX',
      Name: 'mail.example.com.',
      ResourceRecords: ['10 inbound-smtp.us-east-1.amazonaws.com'],
    });
    t.hasResourceProperties('AWS::Route53::RecordSet', {
      Type: 'CNAME',
      HostedZoneId: 'Z123',
      Name: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.anyValue(), 'DkimDNSTokenName1'] }, '.']] },
    });
  });

  it('refuses a region without SES receiving, naming the supported ones', () => {
    const stack = testStack({ env: { account: '123456789012', region: 'ap-east-1' } });
    const error = thrown(() => ingress({}, stack)) as MailroomPropsError;
    expect(error).toBeInstanceOf(MailroomPropsError);
    expect(error.message).toContain('Amazon SES does not receive email in ap-east-1');
    expect(error.message).toContain(SES_RECEIVING_REGIONS.join(', '));
  });

  it('needs a region for an environment-agnostic stack', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const error = thrown(() => ingress({}, new Stack(app, 'Agnostic'))) as MailroomPropsError;
    expect(error.problems).toEqual([
      'the stack has no region (environment-agnostic): give the stack an env with a region, or the region prop',
    ]);
    const { construct } = ingress({ region: 'eu-west-1' }, new Stack(app, 'WithRegionProp'));
    expect(construct.mxHost).toBe('inbound-smtp.eu-west-1.amazonaws.com');
  });

  it('reports every invalid prop at once', () => {
    const error = thrown(() =>
      ingress({ domains: ['example.com', 'not a domain'], recipients: ['support@example.org', 'a@@b'] }),
    ) as MailroomPropsError;
    expect(error.problems).toEqual([
      'domains: "not a domain" is not a domain name',
      'recipients: support@example.org is not within domains (example.com, not a domain)',
      'recipients: "a@@b" is not an address or domain',
    ]);
  });
});

describe('the rule set activation handler', () => {
  const event = (type: CustomResourceEvent['RequestType'], physicalId?: string): CustomResourceEvent => ({
    RequestType: type,
    ResponseURL: 'https://cloudformation.invalid/response',
    StackId: 'stack',
    RequestId: 'request',
    LogicalResourceId: 'Activation',
    PhysicalResourceId: physicalId,
    ResourceProperties: { RuleSetName: 'mailroom' },
  });

  function setup(active: string | undefined, failWith?: Error) {
    const calls: (string | undefined)[] = [];
    const responses: CustomResourceResponse[] = [];
    const state = { active };
    const handler = createHandler({
      ses: {
        activeRuleSetName: async () => state.active,
        setActive: async (name) => {
          if (failWith) throw failWith;
          calls.push(name);
          state.active = name;
        },
      },
      respond: async (_url, body) => {
        responses.push(body);
      },
    });
    return { handler, calls, responses, state };
  }

  it('activates on create and reports the rule set name as the physical id', async () => {
    const { handler, calls, responses } = setup('someone-elses');
    await handler(event('Create'));
    expect(calls).toEqual(['mailroom']);
    expect(responses).toEqual([
      expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: 'mailroom', RequestId: 'request' }),
    ]);
  });

  it('deactivates on delete only while its rule set is the active one', async () => {
    const ours = setup('mailroom');
    await ours.handler(event('Delete', 'mailroom'));
    expect(ours.calls).toEqual([undefined]);
    expect(ours.responses[0]?.Status).toBe('SUCCESS');

    const theirs = setup('someone-elses');
    await theirs.handler(event('Delete', 'mailroom'));
    expect(theirs.calls).toEqual([]);
    expect(theirs.state.active).toBe('someone-elses');
    expect(theirs.responses[0]?.Status).toBe('SUCCESS');
  });

  it('reports SES failures to CloudFormation instead of hanging', async () => {
    const error = Object.assign(new Error('Rule set does not exist'), {
      name: 'RuleSetDoesNotExistException',
    });
    const { handler, responses } = setup(undefined, error);
    await handler(event('Update', 'mailroom'));
    expect(responses[0]).toMatchObject({
      Status: 'FAILED',
      Reason: 'RuleSetDoesNotExistException: Rule set does not exist',
    });
  });
});
