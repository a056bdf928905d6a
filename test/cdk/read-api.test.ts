import { Duration, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { MailroomPipeline, MailroomPropsError, MailroomStack } from '../../cdk/index.ts';
import { STACK_OUTPUT_KEYS } from '../../lib/aws/stack-outputs.ts';
import { EXAMPLE_CONFIG, testStack, thrown } from './support.ts';

type PipelineProps = ConstructorParameters<typeof MailroomPipeline>[2];

function pipeline(props: PipelineProps = {}) {
  const stack = testStack();
  const construct = new MailroomPipeline(stack, 'Pipeline', { configFile: EXAMPLE_CONFIG, ...props });
  return { stack, construct, template: () => Template.fromStack(stack) };
}

/** The function whose environment names this variable. */
function functionWith(t: Template, variable: string): { id: string; props: Record<string, unknown> } {
  const found = Object.entries(t.findResources('AWS::Lambda::Function')).filter(([, r]) =>
    JSON.stringify(r.Properties.Environment ?? {}).includes(variable),
  );
  expect(found).toHaveLength(1);
  const [id, resource] = found[0]!;
  return { id, props: resource.Properties as Record<string, unknown> };
}

/** Every statement of the policies attached to the role of the function with this logical id. */
function statementsOf(t: Template, functionId: string): Array<{ Action: unknown; Resource: unknown }> {
  const fn = t.findResources('AWS::Lambda::Function')[functionId]!;
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

const actionsOf = (statements: Array<{ Action: unknown }>): string[] =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])) as string[];

describe('MailroomPipeline readApi', () => {
  it('is off by default: no read function, no URL, and grantReadApi says why', () => {
    const { construct, template } = pipeline();
    expect(construct.readApiFunction).toBeUndefined();
    expect(construct.readApiUrl).toBeUndefined();
    template().resourceCountIs('AWS::Lambda::Url', 0);
    const err = thrown(() => construct.grantReadApi(new iam.User(construct, 'Reader')));
    expect(err).toBeInstanceOf(MailroomPropsError);
    expect(String(err)).toMatch(/set readApi/);
  });

  it('creates the read function behind an IAM-authenticated Function URL, read-only', () => {
    const { construct, template } = pipeline({ readApi: { urlExpiresIn: Duration.minutes(15) } });
    const t = template();
    expect(construct.readApiFunction).toBeDefined();
    expect(construct.readApiUrl).toBeDefined();
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
    const read = functionWith(t, 'MAILROOM_URL_EXPIRES_IN');
    expect(read.props.Handler).toBe('index.handler');
    expect((read.props.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      MAILROOM_URL_EXPIRES_IN: '900',
      MAILROOM_SMTP_PREFIX: 'smtp/',
      MAILROOM_SES_PREFIX: 'ses/',
    });
    const actions = actionsOf(statementsOf(t, read.id));
    expect(actions).toEqual(
      expect.arrayContaining(['s3:GetObject', 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query']),
    );
    for (const action of actions) {
      expect(action).toMatch(/^(s3:GetObject|dynamodb:(GetItem|BatchGetItem|Query)|logs:.*|kms:Decrypt)$/);
    }
    const s3Resources = JSON.stringify(statementsOf(t, read.id).filter((s) => s.Action === 's3:GetObject'));
    for (const prefix of ['smtp/*', 'ses/*', 'attachments/*']) expect(s3Resources).toContain(prefix);
  });

  it('grantReadApi gives lambda:InvokeFunctionUrl (and InvokeFunction via the URL) on the read function only', () => {
    const { construct, stack } = pipeline({ readApi: true });
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    construct.grantReadApi(reader);
    const t = Template.fromStack(stack);
    const read = functionWith(t, 'MAILROOM_URL_EXPIRES_IN');
    const granted = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('Reader'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>);
    expect(granted).toEqual([
      expect.objectContaining({
        Action: 'lambda:InvokeFunctionUrl',
        Resource: { 'Fn::GetAtt': [read.id, 'Arn'] },
        Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
      }),
      // what a Function URL call also needs now, only through the URL
      expect.objectContaining({
        Action: 'lambda:InvokeFunction',
        Resource: { 'Fn::GetAtt': [read.id, 'Arn'] },
        Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': true } },
      }),
    ]);
  });

  it('lets the processor write attachments/ only, and expires attachments with raw mail and records', () => {
    const t = pipeline({ retentionDays: 45 }).template();
    const processor = functionWith(t, 'MAILROOM_QUEUE_URL');
    const env = (processor.props.Environment as { Variables: Record<string, string> }).Variables;
    const writes = statementsOf(t, processor.id).filter((s) => actionsOf([s]).includes('s3:PutObject'));
    expect(writes).toHaveLength(1);
    expect(JSON.stringify(writes[0]?.Resource)).toContain('/attachments/*');
    const rules = Object.values(t.findResources('AWS::S3::Bucket'))
      .flatMap((b) => b.Properties.LifecycleConfiguration?.Rules ?? [])
      .filter((r: { Prefix?: string }) => r.Prefix) as Array<{ Prefix: string; ExpirationInDays: number }>;
    const days = Object.fromEntries(rules.map((r) => [r.Prefix, r.ExpirationInDays]));
    // Raw mail, attachments and records (DynamoDB TTL counted from MAILROOM_RETENTION_DAYS) stay in step.
    expect(days).toEqual({ 'smtp/': 45, 'ses/': 45, 'attachments/': 45, 'attachments/.tmp/': 1 });
    expect(env.MAILROOM_RETENTION_DAYS).toBe('45');
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('MailroomStack outputs ReadApiUrl, the key the CLI looks for', () => {
    const scope = testStack().node.scope as IConstruct;
    const stack = new MailroomStack(scope, 'Mailroom-read', {
      env: { account: '123456789012', region: 'us-east-1' },
      configFile: EXAMPLE_CONFIG,
      ingress: 'ses',
      domains: ['example.com'],
      pipeline: { readApi: true },
    });
    const outputs = Template.fromStack(stack).findOutputs('*');
    expect(outputs[STACK_OUTPUT_KEYS.readApiUrl]?.Value).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/ReadApiFunctionFunctionUrl/), 'FunctionUrl'],
    });
  });

  it('passes cdk-nag AwsSolutions with a KMS-encrypted bucket, each acknowledgement with a reason', () => {
    const stack: Stack = testStack();
    const encryptionKey = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new MailroomPipeline(stack, 'Pipeline', { configFile: EXAMPLE_CONFIG, readApi: true, encryptionKey });
    const report = new AwsSolutionsChecks(undefined, { verbose: false }).validateScope(stack);
    const violations = report.violations.flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
    );
    expect(violations).toEqual([]);
  });
});
