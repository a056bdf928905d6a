import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { MailroomPipeline, MailroomPropsError, MailroomStack, SmtpIngress } from '../../cdk/index.ts';
import { EXAMPLE_CONFIG, onlyResource, testStack, thrown } from './support.ts';

const EXISTING = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:mailroom-reply-key-AbCdEf';
const image = ecs.ContainerImage.fromRegistry('public.ecr.aws/example/mailroom:test');

function findings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks(undefined, { verbose: false }).validateScope(scope);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
  );
}

/** Policy statements of the role whose logical id matches `role`, flattened. */
function statements(t: Template, role: RegExp): Array<{ Action: unknown; Resource: unknown }> {
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).match(role))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('reply key secret', () => {
  it('replyKeySecret: true creates a generated, retained secret the processor reads at init', () => {
    const stack = testStack();
    const pipeline = new MailroomPipeline(stack, 'Pipeline', {
      configFile: EXAMPLE_CONFIG,
      replyKeySecret: true,
    });
    const t = Template.fromStack(stack);
    t.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: {
        GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
      },
    });
    const secretId = t.getResourceId('AWS::SecretsManager::Secret', {});
    const fn = Object.values(t.findResources('AWS::Lambda::Function')).find((r) =>
      String(r.Properties.Description).startsWith('Mailroom:'),
    )?.Properties as { Environment: { Variables: Record<string, unknown> } };
    // The ARN goes into the environment, never the value.
    expect(fn.Environment.Variables.MAILROOM_REPLY_KEY_SECRET_ARN).toEqual({ Ref: secretId });
    expect(fn.Environment.Variables).not.toHaveProperty('MAILROOM_REPLY_KEY');
    expect(statements(t, /ProcessorRole/)).toContainEqual(
      expect.objectContaining({
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: { Ref: secretId },
      }),
    );
    expect(pipeline.replyKeySecret).toBeDefined();
  });

  it('takes an existing secret without creating one', () => {
    const stack = testStack();
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Key', EXISTING);
    new MailroomPipeline(stack, 'Pipeline', { configFile: EXAMPLE_CONFIG, replyKeySecret: secret });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::SecretsManager::Secret', 0);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { MAILROOM_REPLY_KEY_SECRET_ARN: EXISTING } },
    });
    expect(statements(t, /ProcessorRole/)).toContainEqual(expect.objectContaining({ Resource: EXISTING }));
  });

  it('without replyKeySecret there is no secret and no variable', () => {
    const stack = testStack();
    new MailroomPipeline(stack, 'Pipeline', { configFile: EXAMPLE_CONFIG });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(JSON.stringify(t.toJSON())).not.toContain('MAILROOM_REPLY_KEY');
  });

  it("SmtpIngress injects the pipeline's key as MAILROOM_REPLY_KEY through the execution role", () => {
    const stack = testStack();
    const pipeline = new MailroomPipeline(stack, 'Pipeline', {
      configFile: EXAMPLE_CONFIG,
      replyKeySecret: true,
    });
    new SmtpIngress(stack, 'Smtp', { pipeline, image });
    const t = Template.fromStack(stack);
    const secretId = t.getResourceId('AWS::SecretsManager::Secret', {});
    const task = onlyResource(t, 'AWS::ECS::TaskDefinition').Properties as {
      ContainerDefinitions: Array<{ Secrets: unknown[]; Environment: Array<{ Name: string }> }>;
    };
    expect(task.ContainerDefinitions[0]?.Secrets).toEqual([
      { Name: 'MAILROOM_REPLY_KEY', ValueFrom: { Ref: secretId } },
    ]);
    expect(task.ContainerDefinitions[0]?.Environment.map((e) => e.Name)).not.toContain('MAILROOM_REPLY_KEY');
    expect(statements(t, /ExecutionRole/)).toContainEqual(
      expect.objectContaining({
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: { Ref: secretId },
      }),
    );
  });

  it('SmtpIngress refuses a reply key in plain environment', () => {
    const stack = testStack();
    const pipeline = new MailroomPipeline(stack, 'Pipeline', {
      configFile: EXAMPLE_CONFIG,
    });
    const error = thrown(
      () => new SmtpIngress(stack, 'Smtp', { pipeline, image, environment: { MAILROOM_REPLY_KEY: 'x' } }),
    ) as MailroomPropsError;
    expect(error).toBeInstanceOf(MailroomPropsError);
    expect(error.problems).toEqual([
      'environment must not carry MAILROOM_REPLY_KEY: give the pipeline a replyKeySecret (injected from Secrets Manager)',
    ]);
  });

  it.each<['ses' | 'smtp', true | string]>([
    ['ses', true],
    ['smtp', true],
    ['smtp', EXISTING],
  ])(
    'MailroomStack (%s, %s): the secret, its output, and no unacknowledged cdk-nag finding',
    (ingress, replyKeySecret) => {
      const scope = testStack().node.scope as IConstruct;
      const stack = new MailroomStack(scope, `Mailroom-${ingress}-${replyKeySecret === true}`, {
        env: { account: '123456789012', region: 'us-east-1' },
        configFile: EXAMPLE_CONFIG,
        ingress,
        domains: ['example.com'],
        replyKeySecret,
        ...(ingress === 'smtp' ? { pipeline: {} } : {}),
      });
      const t = Template.fromStack(stack);
      t.resourceCountIs('AWS::SecretsManager::Secret', replyKeySecret === true ? 1 : 0);
      expect(Object.keys(t.findOutputs('ReplyKeySecretArn'))).toHaveLength(1);
      expect(findings(stack)).toEqual([]);
    },
  );
});
