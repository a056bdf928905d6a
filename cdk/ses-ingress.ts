import { Annotations, ArnFormat, Aws, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, type IDependable } from 'constructs';
import { type MailroomPipeline, SES_RAW_PREFIX } from './mailroom-pipeline.ts';
import { PropsProblems } from './props-error.ts';
import { ReceiptRuleSetActivation } from './receipt-rule-set-activation.ts';
import { SES_RECEIVING_REGIONS, sesInboundSmtpHost } from './ses-regions.ts';

export interface SesIngressProps {
  /** The pipeline whose bucket receives the mail and whose queue gets the notifications. */
  readonly pipeline: MailroomPipeline;
  /** The domains to receive mail for (verified SES identities in the stack's region). */
  readonly domains: readonly string[];
  /**
   * Exact addresses (or domains) the receipt rule accepts; each must be within `domains`. Mail for other
   * recipients is not stored.
   * @default every address of `domains`
   */
  readonly recipients?: readonly string[];
  /**
   * Route 53 zone holding `domains`: then each domain gets an SES identity with Easy DKIM, its DKIM CNAME
   * records and an MX record pointing to `inbound-smtp.<region>.amazonaws.com`.
   * @default no identities or records (verify the domains and publish the MX yourself)
   */
  readonly hostedZone?: route53.IHostedZone;
  /**
   * Refuse mail delivered without TLS.
   * @default false
   */
  readonly requireTls?: boolean;
  /**
   * Let SES scan for spam and viruses (the verdicts reach the processor).
   * @default true
   */
  readonly scanEnabled?: boolean;
  /**
   * The region SES receives in; required when the stack is environment-agnostic.
   * @default the stack's region
   */
  readonly region?: string;
  /**
   * An existing receipt rule set to add Mailroom's rule to (it is not activated: it is yours).
   * @default a new rule set, made the account's active one in the region
   */
  readonly ruleSet?: ses.IReceiptRuleSet;
}

/**
 * Amazon SES as Mailroom's ingress: a receipt rule that stores each accepted message in the pipeline's
 * bucket under `ses/` and announces it on an encrypted SNS topic the pipeline's queue subscribes to.
 *
 * An account has one active receipt rule set per region; by default this construct creates its own and
 * activates it, which replaces any other active rule set (pass `ruleSet` to add to yours instead).
 */
export class SesIngress extends Construct {
  /** The rule set holding {@link rule}. */
  readonly ruleSet: ses.IReceiptRuleSet;
  /** The receipt rule: recipients, scanning, TLS policy and the S3 action. */
  readonly rule: ses.ReceiptRule;
  /** The topic SES notifies for each stored message (KMS-encrypted, TLS only). */
  readonly topic: sns.Topic;
  /** The topic's KMS key (SES may use it to publish). */
  readonly topicKey: kms.Key;
  /** The domain identities, when `hostedZone` was given. */
  readonly identities: readonly ses.EmailIdentity[];
  /** The region SES receives in. */
  readonly region: string;
  /** The MX target for the domains: `inbound-smtp.<region>.amazonaws.com`. */
  readonly mxHost: string;

  constructor(scope: Construct, id: string, props: SesIngressProps) {
    super(scope, id);
    this.region = validate(this, props);
    this.mxHost = sesInboundSmtpHost(this.region);
    const { pipeline } = props;

    let activation: ReceiptRuleSetActivation | undefined;
    if (props.ruleSet) {
      this.ruleSet = props.ruleSet;
    } else {
      const ruleSet = new ses.ReceiptRuleSet(this, 'RuleSet');
      this.ruleSet = ruleSet;
      activation = new ReceiptRuleSetActivation(this, 'Activation', { ruleSet });
    }
    const sourceArn = Stack.of(this).formatArn({
      service: 'ses',
      resource: 'receipt-rule-set',
      resourceName: `${this.ruleSet.receiptRuleSetName}:receipt-rule/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    const fromOurRules = {
      StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
      ArnLike: { 'aws:SourceArn': sourceArn },
    };
    const ses_ = new iam.ServicePrincipal('ses.amazonaws.com');

    this.topicKey = new kms.Key(this, 'TopicKey', {
      description: 'Mailroom: encrypts the SES receipt notifications topic',
      enableKeyRotation: true,
    });
    // SES publishes to an encrypted topic only with use of its key (the AWS-managed SNS key does not allow it).
    this.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [ses_],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', { masterKey: this.topicKey, enforceSSL: true });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [ses_],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromOurRules,
      }),
    );
    pipeline.addSesSource(this.topic);

    const ruleDependencies: IDependable[] = [];
    const topicPolicy = this.topic.node.tryFindChild('Policy');
    if (topicPolicy) ruleDependencies.push(topicPolicy);
    const action = new RawMailS3Action(pipeline, this.topic, fromOurRules, ruleDependencies);

    this.rule = new ses.ReceiptRule(this, 'Rule', {
      ruleSet: this.ruleSet,
      recipients: [...(props.recipients ?? props.domains)],
      scanEnabled: props.scanEnabled ?? true,
      tlsPolicy: props.requireTls ? ses.TlsPolicy.REQUIRE : ses.TlsPolicy.OPTIONAL,
      enabled: true,
      actions: [action],
    });
    // SES checks it can write and publish when the rule is created: the policies must exist first.
    this.rule.node.addDependency(...ruleDependencies);
    activation?.node.addDependency(this.rule);

    const identities: ses.EmailIdentity[] = [];
    if (props.hostedZone) {
      const zone = props.hostedZone;
      props.domains.forEach((domain, i) => {
        const identity = new ses.EmailIdentity(this, `Identity${i}`, {
          identity: ses.Identity.domain(domain),
        });
        identities.push(identity);
        identity.dkimRecords.forEach((record, j) => {
          new route53.CnameRecord(this, `Identity${i}Dkim${j}`, {
            zone,
            // Full names from SES (token._domainkey.<domain>); the final dot keeps Route 53 from appending the zone.
            recordName: `${record.name}.`,
            domainName: record.value,
          });
        });
        new route53.MxRecord(this, `Identity${i}Mx`, {
          zone,
          recordName: `${domain}.`,
          values: [{ priority: 10, hostName: this.mxHost }],
        });
      });
    }
    this.identities = identities;
  }
}

/**
 * The receipt rule's S3 action: store under `ses/` in the pipeline bucket and notify the topic. Unlike
 * `aws-ses-actions.S3`, the bucket policy it adds also names the rule set (aws:SourceArn), not only the account.
 */
class RawMailS3Action implements ses.IReceiptRuleAction {
  constructor(
    private readonly pipeline: MailroomPipeline,
    private readonly topic: sns.ITopic,
    private readonly conditions: Record<string, unknown>,
    private readonly dependencies: IDependable[],
  ) {}

  bind(rule: Construct): ses.ReceiptRuleActionConfig {
    const { bucket, encryptionKey } = this.pipeline;
    const ses_ = new iam.ServicePrincipal('ses.amazonaws.com');
    const added = bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [ses_],
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects(`${SES_RAW_PREFIX}*`)],
        conditions: this.conditions,
      }),
    );
    if (added.policyDependable) this.dependencies.push(added.policyDependable);
    else {
      Annotations.of(rule).addWarningV2(
        'mailroom:ses-bucket-policy',
        `The raw-mail bucket is imported: allow ses.amazonaws.com s3:PutObject on ${SES_RAW_PREFIX}* in its policy yourself.`,
      );
    }
    const key = encryptionKey ?? bucket.encryptionKey;
    key?.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [ses_],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    return {
      s3Action: {
        bucketName: bucket.bucketName,
        objectKeyPrefix: SES_RAW_PREFIX,
        topicArn: this.topic.topicArn,
      },
    };
  }
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

function validate(scope: Construct, props: SesIngressProps): string {
  const problems = new PropsProblems('SesIngress');
  const stackRegion = Stack.of(scope).region;
  let region = props.region ?? stackRegion;
  if (Token.isUnresolved(region)) {
    problems.add(
      'the stack has no region (environment-agnostic): give the stack an env with a region, or the region prop',
    );
    region = 'unknown';
  } else if (!SES_RECEIVING_REGIONS.includes(region)) {
    problems.add(
      `Amazon SES does not receive email in ${region}; supported regions: ${SES_RECEIVING_REGIONS.join(', ')}`,
    );
  }
  if (props.region && !Token.isUnresolved(stackRegion) && props.region !== stackRegion) {
    problems.add(`region ${props.region} differs from the stack's region ${stackRegion}`);
  }

  const domains = props.domains.map((d) => d.toLowerCase());
  problems.check(domains.length > 0, 'domains must name at least one domain');
  for (const d of domains)
    problems.check(DOMAIN.test(d), `domains: ${JSON.stringify(d)} is not a domain name`);
  const recipients = props.recipients ?? props.domains;
  problems.check(recipients.length > 0, 'recipients, when given, must not be empty');
  problems.check(
    recipients.length <= 100,
    `a receipt rule takes at most 100 recipients, got ${recipients.length}`,
  );
  if (props.recipients) {
    for (const r of props.recipients) {
      const domain = r.slice(r.lastIndexOf('@') + 1).toLowerCase();
      const within = domains.some((d) => domain === d || domain.endsWith(`.${d}`));
      problems.check(
        DOMAIN.test(domain) && /^[^@\s]*@?[^@\s]+$/.test(r),
        `recipients: ${JSON.stringify(r)} is not an address or domain`,
      );
      problems.check(
        !DOMAIN.test(domain) || within,
        `recipients: ${r} is not within domains (${domains.join(', ')})`,
      );
    }
  }
  const zoneName = props.hostedZone?.zoneName;
  if (zoneName && !Token.isUnresolved(zoneName)) {
    const zone = zoneName.replace(/\.$/, '').toLowerCase();
    for (const d of domains) {
      problems.check(d === zone || d.endsWith(`.${zone}`), `domain ${d} is not in the hosted zone ${zone}`);
    }
  }
  problems.throwIfAny();
  return region;
}
