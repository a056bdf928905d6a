import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { MailroomPipeline, MailroomPropsError, SmtpIngress, type SmtpIngressProps } from '../../cdk/index.ts';
import { EXAMPLE_CONFIG, onlyResource, testStack, thrown } from './support.ts';

function ingress(props: Partial<SmtpIngressProps> = {}) {
  const stack = testStack();
  const pipeline = new MailroomPipeline(stack, 'Pipeline', {
    configFile: EXAMPLE_CONFIG,
  });
  const construct = new SmtpIngress(stack, 'Smtp', {
    pipeline,
    // A registry image keeps these tests off the Docker asset staging (the synth test covers the asset).
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/example/mailroom:test'),
    ...props,
  });
  return { stack, construct, template: Template.fromStack(stack) };
}

describe('SmtpIngress', () => {
  const { template: t, construct } = ingress();

  it('listens on TCP 25 on an internet-facing NLB and forwards to 2525 with PROXY protocol v2', () => {
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Type: 'network',
      Scheme: 'internet-facing',
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 25, Protocol: 'TCP' });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 2525,
      Protocol: 'TCP',
      TargetType: 'ip',
      HealthCheckProtocol: 'TCP',
      TargetGroupAttributes: Match.arrayWith([{ Key: 'proxy_protocol_v2.enabled', Value: 'true' }]),
    });
  });

  it('opens 25 on the load balancer and 2525 on the tasks from the load balancer only', () => {
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('load balancer'),
      SecurityGroupIngress: [
        Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 25, ToPort: 25, IpProtocol: 'tcp' }),
      ],
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 2525,
      ToPort: 2525,
      SourceSecurityGroupId: {
        'Fn::GetAtt': [Match.stringLikeRegexp('LoadBalancerSecurityGroup'), 'GroupId'],
      },
    });
    const ingressRules = t.findResources('AWS::EC2::SecurityGroupIngress');
    expect(JSON.stringify(ingressRules)).not.toContain('0.0.0.0/0');
  });

  it('runs mailroom smtp on Fargate ARM64 with the S3 settings in its environment', () => {
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      RequiresCompatibilities: ['FARGATE'],
      ContainerDefinitions: [
        Match.objectLike({
          PortMappings: [{ ContainerPort: 2525, Protocol: 'tcp' }],
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
          Environment: Match.arrayWith([
            { Name: 'MAILROOM_RAW_BUCKET', Value: { Ref: Match.stringLikeRegexp('RawBucket') } },
            { Name: 'MAILROOM_RAW_PREFIX', Value: 'smtp/' },
            {
              Name: 'MAILROOM_PROXY_TRUSTED',
              Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('Vpc'), 'CidrBlock'] },
            },
            { Name: 'MAILROOM_SMTP_PORT', Value: '2525' },
            { Name: 'AWS_REGION', Value: 'us-east-1' },
          ]),
        }),
      ],
    });
    t.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
    t.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      DesiredCount: 2,
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) },
    });
  });

  it('lets the task role do nothing but s3:PutObject under smtp/', () => {
    const taskDefinition = onlyResource(t, 'AWS::ECS::TaskDefinition').Properties;
    const taskRoleRef = (taskDefinition.TaskRoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    expect(taskRoleRef).toBeDefined();
    const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === taskRoleRef),
    );
    expect(policies.map((p) => p.Properties.PolicyDocument.Statement)).toEqual([
      [
        {
          Effect: 'Allow',
          Action: 's3:PutObject',
          Resource: {
            'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/RawBucket/), 'Arn'] }, '/smtp/*']],
          },
        },
      ],
    ]);
    const role = t.findResources('AWS::IAM::Role')[taskRoleRef];
    expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role?.Properties.Policies).toBeUndefined();
  });

  it('scales between 2 and 10 tasks on 60% CPU', () => {
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 10,
    });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        TargetValue: 60,
        PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
      }),
    });
  });

  it('builds a VPC without NAT gateways, with an S3 endpoint and flow logs', () => {
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.resourceCountIs('AWS::EC2::FlowLog', 1);
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' });
    expect(construct.vpc.publicSubnets).toHaveLength(2);
  });

  it('injects the TLS certificate and key from Secrets Manager and publishes the MX record to mx.<zone>', () => {
    const stack = testStack();
    const pipeline = new MailroomPipeline(stack, 'Pipeline', {
      configFile: EXAMPLE_CONFIG,
    });
    const secret = secretsmanager.Secret.fromSecretCompleteArn(
      stack,
      'Tls',
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:mailroom-tls-AbCdEf',
    );
    const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', {
      hostedZoneId: 'Z123',
      zoneName: 'example.com',
    });
    const vpc = new ec2.Vpc(stack, 'Existing', { maxAzs: 2 });
    new SmtpIngress(stack, 'Smtp', {
      pipeline,
      vpc,
      tlsSecret: secret,
      hostedZone: zone,
      mxRecordName: 'mx.example.com',
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/example/mailroom:test'),
    });
    const s = Template.fromStack(stack);
    s.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Secrets: [
            { Name: 'MAILROOM_TLS_CERT', ValueFrom: `${secret.secretArn}:cert::` },
            { Name: 'MAILROOM_TLS_KEY', ValueFrom: `${secret.secretArn}:key::` },
          ],
        }),
      ],
    });
    s.hasResourceProperties('AWS::Route53::RecordSet', {
      Type: 'MX',
      Name: 'mx.example.com.',
      // The alias of the load balancer (mx.<zone>), a name a certificate can hold.
      ResourceRecords: ['10 mx.example.com'],
    });
    // In a given VPC the tasks go to its private subnets, without public IPs.
    s.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
  });

  it('reports every invalid prop at once', () => {
    const stack = testStack();
    const pipeline = new MailroomPipeline(stack, 'Pipeline', {
      configFile: EXAMPLE_CONFIG,
    });
    const error = thrown(
      () =>
        new SmtpIngress(stack, 'Smtp', {
          pipeline,
          minCapacity: 3,
          maxCapacity: 2,
          cpuTargetUtilization: 95,
          mxRecordName: 'mx',
          environment: { MAILROOM_TLS_KEY: 'pem' },
        }),
    ) as MailroomPropsError;
    expect(error).toBeInstanceOf(MailroomPropsError);
    expect(error.problems).toEqual([
      'maxCapacity must be an integer ≥ minCapacity (3), got 2',
      'cpuTargetUtilization must be from 10 to 90 percent, got 95',
      'mxRecordName needs hostedZone',
      'environment must not carry MAILROOM_TLS_KEY: give tlsSecret (injected from Secrets Manager)',
    ]);
  });

  it('runs the config the processor bundles, from any folder, bundled into its generated image', () => {
    const stack = testStack();
    // A config outside examples/ (the image once held only bin/, lib/ and examples/ of this repository).
    const pipeline = new MailroomPipeline(stack, 'Pipeline', { configFile: 'test/fixtures/flaky.config.ts' });
    const smtp = new SmtpIngress(stack, 'Smtp', { pipeline });
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([{ Name: 'MAILROOM_CONFIG', Value: '/app/mailroom.config.mjs' }]),
        }),
      ],
    });
    expect(readdirSync(smtp.imageContext!).sort()).toEqual(['Dockerfile', 'mailroom', 'mailroom.config.mjs']);
  });

  it('reports a config that does not bundle with its file, line and column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-bad-config-'));
    writeFileSync(join(dir, 'package-lock.json'), '{}');
    writeFileSync(
      join(dir, 'mailroom.config.ts'),
      "import { missing } from './nowhere.ts';\nexport default missing;\n",
    );
    const stack = testStack();
    // The pipeline loads it at synth too: give it the good config, and the ingress a pipeline whose file is bad.
    const pipeline = new MailroomPipeline(stack, 'Pipeline', { configFile: EXAMPLE_CONFIG });
    Object.defineProperty(pipeline, 'configFile', { value: join(dir, 'mailroom.config.ts') });
    const error = thrown(
      () => new SmtpIngress(stack, 'Smtp', { pipeline, minCapacity: 0 }),
    ) as MailroomPropsError;
    expect(error).toBeInstanceOf(MailroomPropsError);
    expect(error.problems).toEqual([
      'minCapacity must be an integer ≥ 1, got 0',
      expect.stringMatching(
        /^the pipeline's configFile does not bundle for the image: .*mailroom\.config\.ts:1:\d+: Could not resolve "\.\/nowhere\.ts"$/,
      ),
    ]);
  });
});
