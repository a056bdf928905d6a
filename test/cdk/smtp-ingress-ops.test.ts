import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import {
  MailroomPipeline,
  type MailroomPropsError,
  SmtpIngress,
  type SmtpIngressProps,
} from '../../cdk/index.ts';
import { EXAMPLE_CONFIG, testStack, thrown } from './support.ts';

/** A user project whose config has a submission listener with its users in Secrets Manager. */
function submissionConfig(usersSecret: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-smtp-ops-'));
  writeFileSync(join(dir, 'package-lock.json'), '{}');
  writeFileSync(
    join(dir, 'mailroom.config.ts'),
    `export default {
  domains: ['example.com'],
  routes: [],
  smtp: { dataTerminationTimeoutMs: 300_000 },
  submission: { usersSecret: ${JSON.stringify(usersSecret)} },
};
`,
  );
  return join(dir, 'mailroom.config.ts');
}

function ingress(props: Partial<SmtpIngressProps> = {}, configFile = EXAMPLE_CONFIG) {
  const stack = testStack();
  const pipeline = new MailroomPipeline(stack, 'Pipeline', { configFile });
  const construct = new SmtpIngress(stack, 'Smtp', {
    pipeline,
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/example/mailroom:test'),
    ...props,
  });
  return { stack, construct, template: Template.fromStack(stack) };
}

function smtpContainer(t: Template): Record<string, unknown> {
  const defs = Object.values(t.findResources('AWS::ECS::TaskDefinition'))[0] as {
    Properties: { ContainerDefinitions: Record<string, unknown>[] };
  };
  return defs.Properties.ContainerDefinitions.find((c) => c.Name === 'smtp')!;
}

function env(t: Template): Record<string, unknown> {
  const list = smtpContainer(t).Environment as { Name: string; Value: unknown }[];
  return Object.fromEntries(list.map((e) => [e.Name, e.Value]));
}

function zone(stack: IConstruct) {
  return route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', {
    hostedZoneId: 'Z123',
    zoneName: 'example.com',
  });
}

describe('SmtpIngress: public name and DNS', () => {
  it('aliases mx.<zone> to the load balancer, points the MX there and greets as it', () => {
    const stack = testStack();
    const pipeline = new MailroomPipeline(stack, 'Pipeline', { configFile: EXAMPLE_CONFIG });
    const smtp = new SmtpIngress(stack, 'Smtp', {
      pipeline,
      hostedZone: zone(stack),
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/example/mailroom:test'),
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Route53::RecordSet', {
      Type: 'A',
      Name: 'mx.example.com.',
      AliasTarget: {
        DNSName: {
          'Fn::Join': [
            '',
            ['dualstack.', { 'Fn::GetAtt': [Match.stringLikeRegexp('LoadBalancer'), 'DNSName'] }],
          ],
        },
      },
    });
    t.hasResourceProperties('AWS::Route53::RecordSet', {
      Type: 'MX',
      Name: 'example.com.',
      ResourceRecords: ['10 mx.example.com'],
    });
    expect(env(t).MAILROOM_SMTP_HOSTNAME).toBe('mx.example.com');
    expect(smtp.mxHost).toBe('mx.example.com');
  });

  it('takes a hostname, and passes it without a zone; refuses one outside the zone', () => {
    const { template, construct } = ingress({ hostname: 'smtp.example.net' });
    expect(env(template).MAILROOM_SMTP_HOSTNAME).toBe('smtp.example.net');
    expect(template.findResources('AWS::Route53::RecordSet')).toEqual({});
    expect(construct.mxHost).toBe('smtp.example.net');
    const plain = ingress();
    expect(env(plain.template).MAILROOM_SMTP_HOSTNAME).toBeUndefined();
    const stack = testStack();
    const pipeline = new MailroomPipeline(stack, 'Pipeline', { configFile: EXAMPLE_CONFIG });
    const error = thrown(
      () =>
        new SmtpIngress(stack, 'Smtp', {
          pipeline,
          hostedZone: zone(stack),
          hostname: 'mx.example.org',
          environment: { MAILROOM_SMTP_HOSTNAME: 'x.example.com' },
          image: ecs.ContainerImage.fromRegistry('public.ecr.aws/example/mailroom:test'),
        }),
    );
    expect((error as MailroomPropsError).problems).toEqual([
      'hostname mx.example.org is outside hostedZone example.com: its alias record must live in the zone',
      'environment must not set MAILROOM_SMTP_HOSTNAME: SmtpIngress sets it',
    ]);
  });
});

describe('SmtpIngress: submission', () => {
  const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:mailroom/submission-users-AbCdEf';

  it('has no 587 listener without a submission listener in the config', () => {
    const { template, construct } = ingress();
    template.resourcePropertiesCountIs('AWS::ElasticLoadBalancingV2::Listener', { Port: 587 }, 0);
    expect(construct.submissionListener).toBeUndefined();
    expect(env(template).MAILROOM_SUBMISSION_PORT).toBeUndefined();
  });

  it('listens on 587 → 2587 (client address preserved, no PROXY header) and opens it', () => {
    const { template: t } = ingress({}, submissionConfig(arn));
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 587, Protocol: 'TCP' });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 2587,
      Protocol: 'TCP',
      HealthCheckProtocol: 'TCP',
      TargetGroupAttributes: Match.arrayWith([{ Key: 'preserve_client_ip.enabled', Value: 'true' }]),
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('load balancer'),
      SecurityGroupIngress: Match.arrayWith([Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 587 })]),
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 2587, ToPort: 2587 });
    expect(env(t).MAILROOM_SUBMISSION_PORT).toBe('2587');
    expect(smtpContainer(t).PortMappings).toEqual([
      { ContainerPort: 2525, Protocol: 'tcp' },
      { ContainerPort: 2587, Protocol: 'tcp' },
    ]);
  });

  it('lets the task role read submission.usersSecret (by ARN or by name)', () => {
    const read = (t: Template) =>
      (
        Object.values(t.findResources('AWS::IAM::Policy')) as {
          Properties: {
            PolicyName: unknown;
            PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] };
          };
        }[]
      )
        .filter((p) => JSON.stringify(p.Properties.PolicyName).includes('TaskRole'))
        .flatMap((p) => p.Properties.PolicyDocument.Statement)
        .filter((s) => JSON.stringify(s.Action).includes('secretsmanager:GetSecretValue'));
    expect(read(ingress({}, submissionConfig(arn)).template)).toEqual([
      {
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: arn,
      },
    ]);
    const byName = read(ingress({}, submissionConfig('mailroom/submission-users')).template);
    expect(JSON.stringify(byName[0]?.Resource)).toContain(':secret:mailroom/submission-users-??????');
    expect(read(ingress().template)).toEqual([]);
  });

  it('passes the cdk-nag checks with a submission listener and its users secret', () => {
    const { stack } = ingress(
      {
        tlsSecret: secretsmanager.Secret.fromSecretCompleteArn(
          testStack(),
          'Tls',
          'arn:aws:secretsmanager:us-east-1:123456789012:secret:mailroom-tls-AbCdEf',
        ),
      },
      submissionConfig('mailroom/submission-users'),
    );
    const report = new AwsSolutionsChecks(undefined, { verbose: false }).validateScope(stack);
    expect(
      report.violations.flatMap((v) =>
        v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
      ),
    ).toEqual([]);
  });
});

describe('SmtpIngress: health and drain', () => {
  it('checks the 220 greeting from inside the task and lets sessions finish on scale-in', () => {
    const { template: t } = ingress();
    const container = smtpContainer(t);
    const check = container.HealthCheck as { Command: string[]; Interval: number; Retries: number };
    expect(check.Command.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    expect(check.Command[3]).toContain("connect(2525,'127.0.0.1')");
    expect(check.Command[3]).toContain('/^220[ -]/');
    expect(container.StopTimeout).toBe(120);
    // The config's smtp.dataTerminationTimeoutMs (600 s by default): a message in DATA is answered.
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 2525,
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '600' }]),
    });
  });

  it('follows the config and drainTimeout, never shorter than the DATA deadline', () => {
    const config = submissionConfig('users');
    for (const { template: t, seconds } of [
      { ...ingress({}, config), seconds: '300' },
      { ...ingress({ drainTimeout: Duration.minutes(15) }, config), seconds: '900' },
    ]) {
      for (const port of [2525, 2587]) {
        t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
          Port: port,
          TargetGroupAttributes: Match.arrayWith([
            { Key: 'deregistration_delay.timeout_seconds', Value: seconds },
          ]),
        });
      }
    }
    const error = thrown(() => ingress({ drainTimeout: Duration.minutes(2) }, config));
    expect((error as MailroomPropsError).problems).toEqual([
      'drainTimeout must be from smtp.dataTerminationTimeoutMs (300 s) to 1 hour, got 120 s',
    ]);
  });
});
