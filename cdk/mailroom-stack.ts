import { resolve } from 'node:path';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { type ConfigSummary, readConfigSummary } from './config-summary.ts';
import { MailroomDashboard } from './mailroom-dashboard.ts';
import { MailroomPipeline, type MailroomPipelineProps } from './mailroom-pipeline.ts';
import { acknowledge } from './nag.ts';
import { MailroomPropsError } from './props-error.ts';
import { SesIngress } from './ses-ingress.ts';
import { SmtpIngress } from './smtp-ingress.ts';
import { isFile } from './user-project.ts';

/** Which ingress feeds the pipeline. */
export type IngressKind = 'ses' | 'smtp';

export interface MailroomStackProps extends StackProps {
  /** `ses` (Amazon SES receipt rule) or `smtp` (Mailroom's SMTP server on Fargate behind an NLB). */
  readonly ingress: IngressKind;
  /**
   * Your Mailroom config (`pipeline.configFile`, which this overrides): bundled into the processor and
   * the SMTP image, and read at synth for the defaults below and the processor's grants.
   * @default `pipeline.configFile`, else `mailroom.config.ts` in the current directory
   */
  readonly configFile?: string;
  /**
   * The domains Mailroom receives mail for (SES identities, reply identities).
   * @default the config's `domains`
   */
  readonly domains?: readonly string[];
  /**
   * Exact recipient addresses for the SES receipt rule.
   * @default the config's exact route addresses within `domains` when every route matches exact addresses
   * (`sesRecipientsFor`), else every address of `domains`
   */
  readonly recipients?: readonly string[];
  /**
   * An existing Route 53 zone (id and name) for the MX and DKIM records.
   * @default no DNS records
   */
  readonly hostedZone?: { readonly hostedZoneId: string; readonly zoneName: string };
  /**
   * ARN of the Secrets Manager secret with the SMTP STARTTLS certificate (JSON `cert`, `key`).
   * @default no certificate from a secret
   */
  readonly tlsSecretArn?: string;
  /**
   * The Secrets Manager secret with the reply signing key, for the processor and the SMTP tasks
   * (`MAILROOM_REPLY_KEY`): `true` creates one with a generated key, a complete ARN takes an existing one
   * (its string is the key). Overrides `pipeline.replyKeySecret`.
   * @default `pipeline.replyKeySecret`, else a new secret when the config signs reply addresses
   * (`replyAddress`), else none
   */
  readonly replyKeySecret?: true | string;
  /**
   * Settings of the pipeline (config file, retention, event bus, alarms…).
   * @default MailroomPipeline's defaults
   */
  readonly pipeline?: MailroomPipelineProps;
  /**
   * An address the alarms write to: a new SNS topic with this email subscription (confirm it from the
   * mail AWS sends) becomes `pipeline.alarmTopic`.
   * @default `pipeline.alarmTopic`, else alarms notify nobody (a synth warning says so)
   */
  readonly alarmEmail?: string;
  /**
   * SMTP ingress: its public host name (greeting, `Received:`, alias record; see `SmtpIngressProps.hostname`).
   * @default `mx.<zone name>` with `hostedZone`, else the config's `smtp.hostname`
   */
  readonly hostname?: string;
  /**
   * A CloudWatch dashboard of the deployment ({@link MailroomDashboard}).
   * @default true
   */
  readonly dashboard?: boolean;
  /** SMTP ingress: run rspamd beside `mailroom smtp` (see `SmtpIngressProps.spamFilter`). @default false */
  readonly spamFilter?: boolean;
  /** SMTP ingress: run ClamAV beside `mailroom smtp` (see `SmtpIngressProps.virusScan`). @default false */
  readonly virusScan?: boolean;
}

/** The app's stack: a {@link MailroomPipeline} fed by an {@link SesIngress} or an {@link SmtpIngress}. */
export class MailroomStack extends Stack {
  readonly pipeline: MailroomPipeline;
  readonly sesIngress?: SesIngress;
  readonly smtpIngress?: SmtpIngress;
  /** The topic the alarms notify, when `alarmEmail` created one. */
  readonly alarmTopic?: sns.Topic;
  readonly dashboard?: MailroomDashboard;

  constructor(scope: Construct, id: string, props: MailroomStackProps) {
    super(scope, id, props);
    if (props.ingress !== 'ses' && props.ingress !== 'smtp') {
      throw new MailroomPropsError('MailroomStack', [
        `ingress must be "ses" or "smtp", got ${JSON.stringify(props.ingress)}`,
      ]);
    }
    if (props.ingress === 'ses' && (props.spamFilter || props.virusScan)) {
      throw new MailroomPropsError('MailroomStack', [
        'spamFilter and virusScan are for the smtp ingress: SES scans every message itself (auth.spam, auth.virus)',
      ]);
    }
    const configFile = props.configFile ?? props.pipeline?.configFile;
    // Read here for the defaults; when it cannot be read, the pipeline reports why with its other props.
    const config = summaryOrUndefined(resolve(configFile ?? 'mailroom.config.ts'));
    const domains = props.domains ?? config?.domains ?? [];
    const recipients =
      props.recipients ?? config?.sesRecipients.filter((r) => domains.includes(r.split('@').pop()!));
    const hostedZone = props.hostedZone
      ? route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', props.hostedZone)
      : undefined;
    // Replies (ctx.reply) go out through SES from the domains we receive for, unless told otherwise.
    const replyKeyOption =
      props.replyKeySecret ?? props.pipeline?.replyKeySecret ?? (config?.replyAddress ? true : undefined);
    const replyKeySecret =
      typeof replyKeyOption === 'string'
        ? secretsmanager.Secret.fromSecretCompleteArn(this, 'ReplyKeySecret', replyKeyOption)
        : replyKeyOption;
    if (props.alarmEmail) this.alarmTopic = this.createAlarmTopic(props.alarmEmail);
    this.pipeline = new MailroomPipeline(this, 'Pipeline', {
      replyIdentities: domains,
      ...props.pipeline,
      ...(this.alarmTopic ? { alarmTopic: this.alarmTopic } : {}),
      ...(configFile === undefined ? {} : { configFile }),
      ...(replyKeySecret ? { replyKeySecret } : {}),
    });
    if (props.ingress === 'ses') {
      this.sesIngress = new SesIngress(this, 'SesIngress', {
        pipeline: this.pipeline,
        domains,
        recipients: recipients?.length ? recipients : undefined,
        hostedZone,
      });
    } else {
      this.smtpIngress = new SmtpIngress(this, 'SmtpIngress', {
        pipeline: this.pipeline,
        hostedZone,
        hostname: props.hostname,
        tlsSecret: props.tlsSecretArn
          ? secretsmanager.Secret.fromSecretCompleteArn(this, 'TlsSecret', props.tlsSecretArn)
          : undefined,
        ...(props.spamFilter ? { spamFilter: true } : {}),
        ...(props.virusScan ? { virusScan: true } : {}),
      });
    }
    if (props.dashboard ?? true) {
      this.dashboard = new MailroomDashboard(this, 'Dashboard', {
        pipeline: this.pipeline,
        smtpIngress: this.smtpIngress,
      });
    }
    // What the DNS steps and your own code need (README "Deploy to AWS").
    new CfnOutput(this, 'MxHost', {
      description: 'Point the MX record of your domains here (priority 10)',
      value: this.sesIngress ? this.sesIngress.mxHost : this.smtpIngress!.mxHost,
    });
    if (this.smtpIngress?.hostname) {
      new CfnOutput(this, 'SmtpLoadBalancer', {
        description: `Without Route 53: make ${this.smtpIngress.hostname} resolve to this load balancer (A/alias)`,
        value: this.smtpIngress.loadBalancer.loadBalancerDnsName,
      });
    }
    new CfnOutput(this, 'RawBucket', { value: this.pipeline.bucket.bucketName });
    new CfnOutput(this, 'Table', { value: this.pipeline.table.tableName });
    new CfnOutput(this, 'DeadLetterQueue', { value: this.pipeline.deadLetterQueue.queueUrl });
    // What `mailroom replay --stack` and `mailroom redrive --stack` read (lib/aws/stack-outputs.ts).
    new CfnOutput(this, 'Queue', { value: this.pipeline.queue.queueUrl });
    new CfnOutput(this, 'ProcessorFunction', { value: this.pipeline.processor.functionName });
    if (this.pipeline.readApiUrl) {
      // What `mailroom messages --stack` and `mailroom message --stack` call (SigV4, IAM auth).
      new CfnOutput(this, 'ReadApiUrl', {
        description: 'The mailbox read API (Function URL, IAM auth): mailroom messages --stack',
        value: this.pipeline.readApiUrl,
      });
    }
    if (this.pipeline.replyKeySecret) {
      new CfnOutput(this, 'ReplyKeySecretArn', {
        description: 'The key that signs reply addresses (MAILROOM_REPLY_KEY)',
        value: this.pipeline.replyKeySecret.secretArn,
      });
    }
  }

  private createAlarmTopic(email: string): sns.Topic {
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Mailroom alarms',
      enforceSSL: true,
    });
    topic.addSubscription(new subscriptions.EmailSubscription(email));
    acknowledge(topic, {
      id: 'AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names and metric values, no mail; CloudWatch cannot publish to a topic under the AWS-managed SNS key, and a customer key would add $1/month for nothing secret.',
    });
    return topic;
  }
}

function summaryOrUndefined(configFile: string): ConfigSummary | undefined {
  if (!isFile(configFile)) return undefined;
  try {
    return readConfigSummary(configFile);
  } catch {
    return undefined;
  }
}
