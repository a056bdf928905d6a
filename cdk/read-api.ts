import { join } from 'node:path';
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { CODE_EXT, CODE_ROOT } from '../lib/kernel/index.ts';
import { acknowledge, wildcardAction, wildcardResource } from './nag.ts';
import { readApiBundling } from './processor-bundling.ts';

/** The read API Lambda's entry point: `functions/read-api.ts`, or `dist/functions/read-api.js` installed. */
export const READ_API_ENTRY: string = join(CODE_ROOT, 'functions', `read-api${CODE_EXT}`);

/** Options of the mailbox read API (`MailroomPipeline`'s `readApi`). */
export interface ReadApiOptions {
  /**
   * How long the presigned URLs it redirects to (large raw messages, attachments) work. They are signed
   * with the function's role session, so they stop working when that session ends, whichever comes first.
   * @default Duration.hours(1)
   */
  readonly urlExpiresIn?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

export interface MailroomReadApiProps extends ReadApiOptions {
  readonly bucket: s3.IBucket;
  readonly encryptionKey?: kms.IKey;
  readonly table: dynamodb.ITable;
  /** The raw-message prefixes it reads (`smtp/`, `ses/`) and the attachments' (`attachments/`). */
  readonly prefixes: { readonly smtp: string; readonly ses: string; readonly attachments: string };
  /** The user's project, for the bundler's lock file. */
  readonly bundleFrom: { readonly projectRoot: string; readonly depsLockFilePath: string };
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The mailbox read API on AWS: a small Lambda (`functions/read-api.ts`) behind a Function URL with IAM auth
 * (SigV4, `lambda:InvokeFunctionUrl`), read-only on the table and on the raw and attachment prefixes of
 * the mail bucket. Callers are granted with {@link MailroomReadApi.grantInvoke}.
 */
export class MailroomReadApi extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly functionUrl: lambda.FunctionUrl;

  constructor(scope: Construct, id: string, props: MailroomReadApiProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy,
    });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Mailroom read API: reads records, raw mail and attachments',
    });
    logGroup.grantWrite(role);
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: READ_API_ENTRY,
      handler: 'handler',
      projectRoot: props.bundleFrom.projectRoot,
      depsLockFilePath: props.bundleFrom.depsLockFilePath,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 512,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: {
        MAILROOM_RAW_BUCKET: props.bucket.bucketName,
        MAILROOM_TABLE: props.table.tableName,
        MAILROOM_SMTP_PREFIX: props.prefixes.smtp,
        MAILROOM_SES_PREFIX: props.prefixes.ses,
        MAILROOM_URL_EXPIRES_IN: String((props.urlExpiresIn ?? Duration.hours(1)).toSeconds()),
      },
      description: 'Mailroom: the read-only mailbox API (IAM-authenticated Function URL)',
      bundling: readApiBundling(),
    });
    this.functionUrl = this.function.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    this.grantReads(props);
    this.acknowledgeFindings(props);
  }

  /** The Function URL (`https://<id>.lambda-url.<region>.on.aws/`). */
  get url(): string {
    return this.functionUrl.url;
  }

  /** Lets `grantee` call the API (`lambda:InvokeFunctionUrl` on this function, IAM auth). */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.functionUrl.grantInvokeUrl(grantee);
  }

  /** GetObject on the raw and attachment prefixes only; reads (Query, GetItem, BatchGetItem) on the table. */
  private grantReads(props: MailroomReadApiProps): void {
    const { smtp, ses, attachments } = props.prefixes;
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [smtp, ses, attachments].map((p) => props.bucket.arnForObjects(`${p}*`)),
      }),
    );
    const key = props.encryptionKey ?? props.bucket.encryptionKey;
    key?.grantDecrypt(this.function);
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
        resources: [props.table.tableArn, `${props.table.tableArn}/index/*`],
      }),
    );
  }

  private acknowledgeFindings(props: MailroomReadApiProps): void {
    acknowledge(this.function, {
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x on purpose, like the processor: the Node version Mailroom supports and tests.',
    });
    const policy = this.function.role?.node.tryFindChild('DefaultPolicy');
    if (!policy) return;
    const { smtp, ses, attachments } = props.prefixes;
    acknowledge(
      policy,
      ...[smtp, ses, attachments].map((p) => ({
        id: wildcardResource(this, props.bucket.arnForObjects(`${p}*`)),
        reason: `The read API reads any object under ${p} (message and attachment keys are not known in advance); GetObject only.`,
      })),
      {
        id: wildcardResource(this, `${props.table.tableArn}/index/*`),
        reason: "The read API queries the table's own indexes (gsi1) for listings; read actions only.",
      },
      ...((props.encryptionKey ?? props.bucket.encryptionKey)
        ? ['kms:GenerateDataKey*', 'kms:ReEncrypt*'].map((action) => ({
            id: wildcardAction(action),
            reason: 'CDK key grant action groups, limited to the mail bucket key.',
          }))
        : []),
    );
  }
}
