import { type Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import {
  MailroomPipeline,
  MailroomStack,
  type MailroomStackProps,
  SesIngress,
  SmtpIngress,
} from '../../cdk/index.ts';
import { EXAMPLE_CONFIG, testStack } from './support.ts';

/** cdk-nag's AWS Solutions findings that are not acknowledged, as "rule at path" lines. */
function findings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks(undefined, { verbose: false }).validateScope(scope);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
  );
}

/** Every acknowledgement in the tree with its reason. */
function acknowledgements(scope: IConstruct): { path: string; id: string; reason: unknown }[] {
  return scope.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, unknown>).map(([id, reason]) => ({
          path: c.node.path,
          id,
          reason,
        })),
      ),
  );
}

function mailroomStack(props: Partial<MailroomStackProps> & Pick<MailroomStackProps, 'ingress'>): Stack {
  const scope = testStack().node.scope as IConstruct;
  return new MailroomStack(scope, `Mailroom-${props.ingress}`, {
    env: { account: '123456789012', region: 'us-east-1' },
    configFile: EXAMPLE_CONFIG,
    domains: ['example.com'],
    ...props,
  });
}

describe('cdk-nag AwsSolutions checks', () => {
  it('flag a non-compliant resource (the checks run)', () => {
    const stack = testStack();
    new s3.Bucket(stack, 'Plain');
    expect(findings(stack)).toEqual(
      expect.arrayContaining([
        'AwsSolutions-S1 at Test/Plain/Resource',
        'AwsSolutions-S10 at Test/Plain/Resource',
      ]),
    );
  });

  it('find nothing unacknowledged in the SES stack', () => {
    const stack = mailroomStack({
      ingress: 'ses',
      hostedZone: { hostedZoneId: 'Z123', zoneName: 'example.com' },
      pipeline: { eventBus: true, forwardFrom: 'mailroom@example.com' },
    });
    expect(findings(stack)).toEqual([]);
  });

  it('find nothing unacknowledged in the SMTP stack', () => {
    const stack = mailroomStack({
      ingress: 'smtp',
      hostedZone: { hostedZoneId: 'Z123', zoneName: 'example.com' },
      tlsSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:mailroom-tls-AbCdEf',
    });
    expect(findings(stack)).toEqual([]);
  });

  it('find nothing unacknowledged with a KMS-encrypted bucket feeding both ingresses', () => {
    const stack = testStack();
    const pipeline = new MailroomPipeline(stack, 'Pipeline', {
      configFile: EXAMPLE_CONFIG,
      encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
    });
    new SesIngress(stack, 'Ses', { pipeline, domains: ['example.com'] });
    new SmtpIngress(stack, 'Smtp', {
      pipeline,
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/example/mailroom:test'),
    });
    expect(findings(stack)).toEqual([]);
  });

  it('carry a written reason on every acknowledgement', () => {
    const all = [mailroomStack({ ingress: 'ses' }), mailroomStack({ ingress: 'smtp' })]
      .flatMap(acknowledgements)
      .filter((ack) => ack.id.includes('AwsSolutions-'));
    expect(all.length).toBeGreaterThan(5);
    for (const ack of all) {
      expect(typeof ack.reason === 'string' && ack.reason.length >= 40, `${ack.id} at ${ack.path}`).toBe(
        true,
      );
    }
  });
});

describe('MailroomStack outputs', () => {
  it('names the MX host of each ingress', () => {
    const outputs = (stack: Stack) => Template.fromStack(stack).findOutputs('MxHost');
    const ses = outputs(mailroomStack({ ingress: 'ses' }));
    expect(Object.values(ses)[0]?.Value).toBe('inbound-smtp.us-east-1.amazonaws.com');
    const smtp = outputs(mailroomStack({ ingress: 'smtp' }));
    expect(JSON.stringify(Object.values(smtp)[0]?.Value)).toMatch(
      /"Fn::GetAtt":\[".*LoadBalancer.*","DNSName"\]/,
    );
  });
});
