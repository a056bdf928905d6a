import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { MailroomPipeline, MailroomPropsError } from '../../cdk/index.ts';
import { EXAMPLE_CONFIG, onlyResource, testStack, thrown } from './support.ts';

function pipeline(props: ConstructorParameters<typeof MailroomPipeline>[2] = {}) {
  const stack = testStack();
  const construct = new MailroomPipeline(stack, 'Pipeline', { configFile: EXAMPLE_CONFIG, ...props });
  return { stack, construct, template: () => Template.fromStack(stack) };
}

describe('MailroomPipeline', () => {
  it('creates an encrypted, private, TLS-only, access-logged raw bucket expiring both prefixes', () => {
    const { template, construct } = pipeline();
    const t = template();
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'raw-mail/' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'smtp/', ExpirationInDays: 30, Status: 'Enabled' }),
          Match.objectLike({ Prefix: 'ses/', ExpirationInDays: 30, Status: 'Enabled' }),
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
        ]),
      },
    });
    t.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    const rawBucketId = t.getResourceId('AWS::S3::Bucket', {
      Properties: { LoggingConfiguration: Match.anyValue() },
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: rawBucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    expect(construct.accessLogsBucket).toBeDefined();
  });

  it('uses a KMS key when given one, and applies retentionDays and versioning', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new MailroomPipeline(stack, 'Pipeline', {
      configFile: EXAMPLE_CONFIG,
      encryptionKey: key,
      retentionDays: 7,
      versioned: true,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) }),
        ],
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Prefix: 'smtp/',
            ExpirationInDays: 7,
            NoncurrentVersionExpiration: { NoncurrentDays: 7 },
          }),
        ]),
      },
    });
  });

  it('sends S3 notifications for smtp/*.eml to an encrypted queue with a dead-letter queue', () => {
    const t = pipeline().template();
    const notifications = onlyResource(t, 'Custom::S3BucketNotifications').Properties;
    expect(notifications.NotificationConfiguration).toEqual({
      QueueConfigurations: [
        {
          Events: ['s3:ObjectCreated:*'],
          Filter: {
            Key: {
              FilterRules: expect.arrayContaining([
                { Name: 'prefix', Value: 'smtp/' },
                { Name: 'suffix', Value: '.eml' },
              ]),
            },
          },
          QueueArn: { 'Fn::GetAtt': [expect.stringMatching(/Queue/), 'Arn'] },
        },
      ],
    });
    t.resourceCountIs('AWS::SQS::Queue', 2);
    t.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 5 },
    });
    t.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    // enforceSSL on both queues
    const policies = Object.values(t.findResources('AWS::SQS::QueuePolicy'));
    expect(policies.length).toBeGreaterThanOrEqual(2);
  });

  it('runs the processor on nodejs22.x ARM64 with the contract environment and partial batch responses', () => {
    const t = pipeline({ batchSize: 5, maxBatchingWindow: Duration.seconds(2) }).template();
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 60,
      Environment: {
        Variables: {
          MAILROOM_RAW_BUCKET: { Ref: Match.stringLikeRegexp('RawBucket') },
          MAILROOM_TABLE: { Ref: Match.stringLikeRegexp('Table') },
          MAILROOM_SMTP_PREFIX: 'smtp/',
          MAILROOM_SES_PREFIX: 'ses/',
          MAILROOM_RETENTION_DAYS: '30',
        },
      },
    });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 5,
      MaximumBatchingWindowInSeconds: 2,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('adds an event bus the processor may put events on, and the forwarding identity', () => {
    const t = pipeline({ eventBus: true, forwardFrom: 'mailroom@example.com' }).template();
    t.resourceCountIs('AWS::Events::EventBus', 1);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          MAILROOM_EVENT_BUS: { Ref: Match.stringLikeRegexp('EventBus') },
          MAILROOM_FORWARD_FROM: 'mailroom@example.com',
        }),
      },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'events:PutEvents' }),
          Match.objectLike({ Action: ['ses:SendEmail', 'ses:SendRawEmail'] }),
        ]),
      },
    });
  });

  it('lets the processor send replies through SES as the given identities only', () => {
    const t = pipeline({ replyIdentities: ['example.com', 'help@example.org'] }).template();
    const identity = (name: string) => ({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ses:us-east-1:123456789012:identity/' + name]],
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['ses:SendEmail', 'ses:SendRawEmail'],
            Effect: 'Allow',
            Resource: [identity('example.com'), identity('help@example.org')],
          },
        ]),
      },
    });
    expect(() => pipeline({ replyIdentities: ['not a domain'] })).toThrow(
      /replyIdentities: "not a domain" is not a domain or an email address/,
    );
  });

  it('creates the table from the shared schema: on demand, PITR, TTL, both GSIs, retained', () => {
    const t = pipeline().template();
    t.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        GlobalSecondaryIndexes: [
          Match.objectLike({
            IndexName: 'gsi1',
            KeySchema: [
              { AttributeName: 'gsi1pk', KeyType: 'HASH' },
              { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          }),
          Match.objectLike({ IndexName: 'gsi2' }),
        ],
      },
    });
  });

  it('honours removalPolicy', () => {
    const t = pipeline({ removalPolicy: RemovalPolicy.DESTROY }).template();
    t.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });

  it('alarms on the dead-letter queue, processor errors, queue age and failed deliveries, notifying the alarm topic', () => {
    const stack = testStack();
    const topic = new sns.Topic(stack, 'Alarms');
    new MailroomPipeline(stack, 'Pipeline', {
      configFile: EXAMPLE_CONFIG,
      alarmTopic: topic,
      queueAgeAlarmThreshold: Duration.minutes(10),
    });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::CloudWatch::Alarm', 4);
    const action = [{ Ref: Match.stringLikeRegexp('Alarms') }];
    for (const [metric, threshold] of [
      ['ApproximateNumberOfMessagesVisible', 0],
      ['Errors', 0],
      ['ApproximateAgeOfOldestMessage', 600],
    ] as const) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: action,
      });
    }
  });

  it('grantWriteRaw allows s3:PutObject on the prefix only; grantReadMail reads objects and the table', () => {
    const { stack, construct, template } = pipeline();
    const writer = new iam.Role(stack, 'Writer', { assumedBy: new iam.AccountRootPrincipal() });
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    construct.grantWriteRaw(writer, 'smtp/');
    construct.grantReadMail(reader);
    const t = template();
    const policies = Object.values(t.findResources('AWS::IAM::Policy')) as {
      Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: unknown[] } };
    }[];
    const writerPolicy = policies.find((p) => p.Properties.Roles.some((r) => r.Ref.startsWith('Writer')));
    expect(writerPolicy?.Properties.PolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: {
          'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/RawBucket/), 'Arn'] }, '/smtp/*']],
        },
      },
    ]);
    const readerPolicy = policies.find((p) => p.Properties.Roles.some((r) => r.Ref.startsWith('Reader')));
    const actions = JSON.stringify(readerPolicy?.Properties.PolicyDocument.Statement);
    expect(actions).toContain('s3:GetObject*');
    expect(actions).toContain('dynamodb:Query');
    expect(actions).not.toContain('s3:PutObject');
    expect(actions).not.toContain('dynamodb:PutItem');

    const error = thrown(() => construct.grantWriteRaw(writer, '*'));
    expect(error).toBeInstanceOf(MailroomPropsError);
  });

  it('grantWriteRaw adds the KMS key when the bucket uses one', () => {
    const stack = testStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const construct = new MailroomPipeline(stack, 'Pipeline', {
      configFile: EXAMPLE_CONFIG,
      encryptionKey: key,
    });
    const writer = new iam.Role(stack, 'Writer', { assumedBy: new iam.AccountRootPrincipal() });
    construct.grantWriteRaw(writer, 'smtp/');
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Writer') }],
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Action: 's3:PutObject' }),
          Match.objectLike({ Action: ['kms:GenerateDataKey', 'kms:Decrypt'] }),
        ],
      },
    });
  });

  it('reports every invalid prop in one MailroomPropsError', () => {
    const stack = testStack();
    const error = thrown(
      () =>
        new MailroomPipeline(stack, 'Pipeline', {
          retentionDays: 0,
          batchSize: 20_000,
          configFile: join('/nonexistent', 'mailroom.config.ts'),
          processorTimeout: Duration.minutes(2),
          queueVisibilityTimeout: Duration.minutes(5),
          maxReceiveCount: 0,
        }),
    );
    expect(error).toBeInstanceOf(MailroomPropsError);
    const e = error as MailroomPropsError;
    expect(e.name).toBe('MailroomPropsError');
    // The missing config also leaves no lock file to find from its folder.
    expect(e.problems).toHaveLength(7);
    for (const part of [
      'retentionDays must be a positive integer, got 0',
      'batchSize must be an integer from 1 to 10000, got 20000',
      'batchSize above 10 (got 20000) needs a maxBatchingWindow',
      'maxReceiveCount must be an integer from 1 to 1000, got 0',
      'queueVisibilityTimeout must be at least 6 × processorTimeout (720 s), got 300 s',
      'configFile /nonexistent/mailroom.config.ts does not exist',
      'no lock file (package-lock.json, yarn.lock, pnpm-lock.yaml, bun.lockb, bun.lock) in /nonexistent',
    ]) {
      expect(e.message).toContain(part);
    }
  });

  it('refuses bucket settings for a bucket it does not create', () => {
    const stack = testStack();
    const other = new MailroomPipeline(stack, 'Other', {
      configFile: EXAMPLE_CONFIG,
    });
    const error = thrown(
      () =>
        new MailroomPipeline(stack, 'Pipeline', {
          configFile: EXAMPLE_CONFIG,
          bucket: other.bucket,
          versioned: true,
        }),
    );
    expect((error as MailroomPropsError).problems).toEqual([
      'versioned only applies to a bucket this construct creates; configure it on the bucket you passed',
    ]);
  });

  it('exposes its resources', () => {
    const { construct, template } = pipeline({ eventBus: true });
    expect(construct.bucket).toBeDefined();
    expect(construct.queue).toBeDefined();
    expect(construct.deadLetterQueue).toBeDefined();
    expect(construct.processor).toBeDefined();
    expect(construct.table).toBeDefined();
    expect(construct.eventBus).toBeDefined();
    expect(Object.keys(construct.alarms).sort()).toEqual([
      'deadLetterQueue',
      'deliveriesFailed',
      'processorErrors',
      'queueAge',
    ]);
    expect(onlyResource(template(), 'AWS::Lambda::EventSourceMapping')).toBeDefined();
  });
});
