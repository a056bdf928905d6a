import { join } from 'node:path';
import { Annotations, Duration, RemovalPolicy, Stack, Stage } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ConfigSummary } from './config-summary.ts';
import { type MailroomPipeline, SMTP_RAW_PREFIX } from './mailroom-pipeline.ts';
import { acknowledge, wildcardResource } from './nag.ts';
import type { PropsProblems } from './props-error.ts';
import { addClamav, addRspamd, CLAMD_HOST, CLAMD_PORT, RSPAMD_URL } from './scan-sidecars.ts';
import { ConfigBundleError, IMAGE_CONFIG_PATH, writeImageContext } from './smtp-image.ts';
import {
  defaultTaskMemory,
  type SmtpIngressProps,
  sidecarOptions,
  validateSmtpIngressProps,
} from './smtp-ingress-props.ts';
import {
  addSmtpListeners,
  bannerHealthCheck,
  SMTP_CONTAINER_PORT,
  SUBMISSION_CONTAINER_PORT,
} from './smtp-listeners.ts';

export type { SmtpIngressProps } from './smtp-ingress-props.ts';
export { SMTP_CONTAINER_PORT, SUBMISSION_CONTAINER_PORT } from './smtp-listeners.ts';

/** Fargate's longest stop timeout: what `mailroom smtp` gets after SIGTERM to finish its sessions. */
const STOP_TIMEOUT = Duration.seconds(120);

/**
 * Mailroom's self-hosted SMTP ingress: `mailroom smtp` on Fargate (ARM64) behind an internet-facing Network
 * Load Balancer (TCP 25 → 2525 with PROXY protocol v2, so the server sees each client's address; TCP
 * 587 → 2587 when the config has a submission listener), writing each accepted message to the pipeline
 * bucket before answering 250. The task may only PutObject under `smtp/`; S3 event notifications take
 * it from there. With a hosted zone, `mx.<zone>` (or `hostname`) is an alias of the load balancer and
 * the MX record points to it: the name the server greets with and a certificate can name.
 */
export class SmtpIngress extends Construct {
  readonly vpc: ec2.IVpc;
  readonly cluster: ecs.Cluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly service: ecs.FargateService;
  /** The tasks' security group: port 2525 from the load balancer only. */
  readonly securityGroup: ec2.SecurityGroup;
  /** The load balancer's security group: port 25 from `allowFrom`. */
  readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  readonly listener: elbv2.NetworkListener;
  readonly targetGroup: elbv2.NetworkTargetGroup;
  /** The 587 listener, when the config has a submission listener. */
  readonly submissionListener?: elbv2.NetworkListener;
  readonly submissionTargetGroup?: elbv2.NetworkTargetGroup;
  /** The public host name (greeting, `Received:`, alias record, MX target), when one is known. */
  readonly hostname?: string;
  /** The host name to point MX records at: `hostname`, else the load balancer's DNS name. */
  readonly mxHost: string;
  /** The pipeline the tasks write into. */
  readonly pipeline: MailroomPipeline;

  /** The generated Docker build context of the image, when this construct builds it. */
  readonly imageContext?: string;
  /** The config's submission listener (null: none). */
  private readonly submission: ConfigSummary['submission'];

  constructor(scope: Construct, id: string, props: SmtpIngressProps) {
    super(scope, id);
    const problems = validateSmtpIngressProps(props);
    if (!props.image) this.imageContext = this.writeImageContext(props.pipeline, problems);
    problems.throwIfAny();
    const { pipeline } = props;
    this.pipeline = pipeline;
    this.hostname =
      props.hostname ?? (props.hostedZone ? `mx.${props.hostedZone.zoneName.replace(/\.$/, '')}` : undefined);
    this.submission = pipeline.configSummary.submission;
    if (this.submission && !props.tlsSecret) {
      Annotations.of(this).addWarningV2(
        'mailroom:SmtpIngress.submissionWithoutTls',
        'The config has a submission listener, which needs STARTTLS (smtp.tls), and no tlsSecret is given: `mailroom smtp` refuses to start unless the config brings its own certificate',
      );
    }

    if (props.vpc) {
      this.vpc = props.vpc;
    } else {
      const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      // No NAT gateway (its hourly cost would exceed the rest of a small deployment): tasks run in public
      // subnets with public IPs, reachable only from the load balancer; S3 traffic stays on the endpoint.
      this.vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: 0,
        subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
        gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
        flowLogs: {
          all: {
            destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
            trafficType: ec2.FlowLogTrafficType.ALL,
          },
        },
      });
    }
    const taskSubnets =
      props.taskSubnets ??
      (props.vpc
        ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }
        : { subnetType: ec2.SubnetType.PUBLIC });
    const assignPublicIp = props.assignPublicIp ?? !props.vpc;

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    const spamFilter = sidecarOptions(props.spamFilter);
    const virusScan = sidecarOptions(props.virusScan);
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: props.cpu ?? (virusScan ? 1024 : 512),
      memoryLimitMiB: props.memoryLimitMiB ?? defaultTaskMemory(spamFilter, virusScan),
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    pipeline.grantWriteRaw(this.taskDefinition.taskRole, SMTP_RAW_PREFIX);
    this.grantUsersSecret();

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const secrets: Record<string, ecs.Secret> = {};
    if (props.tlsSecret) {
      secrets.MAILROOM_TLS_CERT = ecs.Secret.fromSecretsManager(props.tlsSecret, 'cert');
      secrets.MAILROOM_TLS_KEY = ecs.Secret.fromSecretsManager(props.tlsSecret, 'key');
    }
    // The same key as the processor's, so RCPT-time token checks agree with processing.
    if (pipeline.replyKeySecret) {
      secrets.MAILROOM_REPLY_KEY = ecs.Secret.fromSecretsManager(pipeline.replyKeySecret);
    }
    const scanEnvironment: Record<string, string> = {};
    const sidecars: ecs.ContainerDefinition[] = [];
    if (spamFilter) {
      sidecars.push(
        addRspamd(
          this.taskDefinition,
          spamFilter,
          ecs.LogDrivers.awsLogs({ streamPrefix: 'rspamd', logGroup }),
        ),
      );
      scanEnvironment.MAILROOM_SCAN_RSPAMD_URL = RSPAMD_URL;
    }
    if (virusScan) {
      sidecars.push(
        addClamav(
          this.taskDefinition,
          virusScan,
          ecs.LogDrivers.awsLogs({ streamPrefix: 'clamav', logGroup }),
        ),
      );
      scanEnvironment.MAILROOM_SCAN_CLAMAV_HOST = CLAMD_HOST;
      scanEnvironment.MAILROOM_SCAN_CLAMAV_PORT = String(CLAMD_PORT);
    }
    const smtpContainer = this.addSmtpContainer(props, logGroup, secrets, scanEnvironment);
    // No mail is taken before the scanners answer (fail-open would let it through unscanned).
    for (const sidecar of sidecars) {
      smtpContainer.addContainerDependencies({
        container: sidecar,
        condition: ecs.ContainerDependencyCondition.HEALTHY,
      });
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'ServiceSecurityGroup', {
      vpc: this.vpc,
      description: 'Mailroom SMTP tasks: ports 2525 (and 2587) from the load balancer only',
      allowAllOutbound: true,
    });
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.minCapacity ?? 2,
      vpcSubnets: taskSubnets,
      assignPublicIp,
      securityGroups: [this.securityGroup],
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      // The SMTP container starts once the scanners are healthy (clamd loads its database first).
      healthCheckGracePeriod: Duration.seconds(virusScan ? 420 : spamFilter ? 120 : 60),
    });
    this.service
      .autoScaleTaskCount({ minCapacity: props.minCapacity ?? 2, maxCapacity: props.maxCapacity ?? 10 })
      .scaleOnCpuUtilization('Cpu', {
        targetUtilizationPercent: props.cpuTargetUtilization ?? 60,
        scaleOutCooldown: Duration.seconds(60),
        scaleInCooldown: Duration.minutes(5),
      });

    this.loadBalancerSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: this.vpc,
      description: 'Mailroom SMTP load balancer: port 25 (and 587) from the internet',
      allowAllOutbound: false,
    });
    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      crossZoneEnabled: true,
      securityGroups: [this.loadBalancerSecurityGroup],
    });
    const listeners = addSmtpListeners({
      loadBalancer: this.loadBalancer,
      service: this.service,
      allowFrom: props.allowFrom ?? ec2.Peer.anyIpv4(),
      drainTimeout: this.drainTimeout(props),
      submission: this.submission !== null,
    });
    this.listener = listeners.listener;
    this.targetGroup = listeners.targetGroup;
    this.submissionListener = listeners.submissionListener;
    this.submissionTargetGroup = listeners.submissionTargetGroup;
    this.mxHost = this.addDnsRecords(props);

    this.acknowledgeNagFindings();
  }

  /** The `smtp` container: `mailroom smtp` configured by its environment, health checked by its greeting. */
  private addSmtpContainer(
    props: SmtpIngressProps,
    logGroup: logs.ILogGroup,
    secrets: Record<string, ecs.Secret>,
    scanEnvironment: Record<string, string>,
  ): ecs.ContainerDefinition {
    const { pipeline } = this;
    const portMappings = [{ containerPort: SMTP_CONTAINER_PORT, protocol: ecs.Protocol.TCP }];
    const listenerEnvironment: Record<string, string> = {};
    if (this.hostname) listenerEnvironment.MAILROOM_SMTP_HOSTNAME = this.hostname;
    if (this.submission) {
      listenerEnvironment.MAILROOM_SUBMISSION_PORT = String(SUBMISSION_CONTAINER_PORT);
      portMappings.push({ containerPort: SUBMISSION_CONTAINER_PORT, protocol: ecs.Protocol.TCP });
    }
    return this.taskDefinition.addContainer('smtp', {
      image:
        props.image ?? ecs.ContainerImage.fromAsset(this.imageContext!, { platform: Platform.LINUX_ARM64 }),
      // The image's CMD runs `mailroom smtp`; configuration is the environment.
      environment: {
        ...props.environment,
        MAILROOM_RAW_BUCKET: pipeline.bucket.bucketName,
        MAILROOM_RAW_PREFIX: SMTP_RAW_PREFIX,
        MAILROOM_PROXY_TRUSTED: this.vpc.vpcCidrBlock,
        MAILROOM_SMTP_PORT: String(SMTP_CONTAINER_PORT),
        ...listenerEnvironment,
        ...(props.image ? {} : { MAILROOM_CONFIG: IMAGE_CONFIG_PATH }),
        ...scanEnvironment,
        AWS_REGION: Stack.of(this).region,
      },
      secrets,
      portMappings,
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'smtp', logGroup }),
      healthCheck: bannerHealthCheck(),
      // Fargate's maximum: after SIGTERM, open SMTP sessions finish (smtp.closeTimeoutMs) and uploads drain.
      stopTimeout: STOP_TIMEOUT,
    });
  }

  /** Lets the tasks read the submission users' secret (`submission.usersSecret`, a name or an ARN). */
  private grantUsersSecret(): void {
    const id = this.submission?.usersSecret;
    if (!id) return;
    const secret = !id.startsWith('arn:')
      ? secretsmanager.Secret.fromSecretNameV2(this, 'SubmissionUsers', id)
      : /-[A-Za-z0-9]{6}$/.test(id)
        ? secretsmanager.Secret.fromSecretCompleteArn(this, 'SubmissionUsers', id)
        : secretsmanager.Secret.fromSecretPartialArn(this, 'SubmissionUsers', id);
    secret.grantRead(this.taskDefinition.taskRole);
  }

  /**
   * The deregistration delay: the config's DATA answer deadline by default, so a message being received
   * when its task leaves is still answered; warns when the config's close timeout outlasts the stop timeout.
   */
  private drainTimeout(props: SmtpIngressProps): Duration {
    const timeouts = this.pipeline.configSummary.smtpTimeouts;
    if (timeouts.closeMs > STOP_TIMEOUT.toMilliseconds()) {
      Annotations.of(this).addWarningV2(
        'mailroom:SmtpIngress.closeTimeout',
        `smtp.closeTimeoutMs (${timeouts.closeMs} ms) is longer than Fargate's stop timeout (120 s): a stopping task is killed before its sessions are told 421`,
      );
    }
    return (
      props.drainTimeout ?? Duration.seconds(Math.min(3600, Math.ceil(timeouts.dataTerminationMs / 1000)))
    );
  }

  /**
   * With a hosted zone: an A alias record `hostname` → the load balancer (the load balancer is IPv4-only,
   * so no AAAA), and the MX record pointing to it. Returns the MX host.
   */
  private addDnsRecords(props: SmtpIngressProps): string {
    const zone = props.hostedZone;
    if (!zone || !this.hostname) return this.hostname ?? this.loadBalancer.loadBalancerDnsName;
    new route53.ARecord(this, 'MxAlias', {
      zone,
      recordName: this.hostname,
      target: route53.RecordTarget.fromAlias(new route53Targets.LoadBalancerTarget(this.loadBalancer)),
    });
    new route53.MxRecord(this, 'Mx', {
      zone,
      recordName: props.mxRecordName,
      values: [{ priority: 10, hostName: this.hostname }],
    });
    return this.hostname;
  }

  /**
   * Writes the image's Docker context into the cloud assembly (beside the assets, rewritten on every
   * synth); the asset staging copies it to `asset.<hash>`. A config that does not bundle is a problem.
   */
  private writeImageContext(pipeline: MailroomPipeline, problems: PropsProblems): string | undefined {
    const dir = join(Stage.of(this)?.outdir ?? '.', `.mailroom-smtp-image-${this.node.addr}`);
    try {
      writeImageContext(dir, pipeline.configFile);
      return dir;
    } catch (error) {
      if (!(error instanceof ConfigBundleError)) throw error;
      for (const problem of error.problems) {
        problems.add(`the pipeline's configFile does not bundle for the image: ${problem}`);
      }
      return undefined;
    }
  }

  private acknowledgeNagFindings(): void {
    acknowledge(this.loadBalancer, {
      id: 'AwsSolutions-ELB2',
      reason:
        'NLB access logs are only written for TLS listeners; this TCP listener passes SMTP (STARTTLS inside) through, and the server logs each session.',
    });
    acknowledge(this.loadBalancerSecurityGroup, {
      id: 'AwsSolutions-EC23',
      reason:
        'A public MX must accept SMTP on port 25 from any address; only port 25 is open, on the load balancer.',
    });
    acknowledge(this.taskDefinition, {
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment holds non-secret settings (bucket name, prefix, port, trusted proxy CIDR, region); the TLS key and the reply key come from Secrets Manager through `secrets`.',
    });
    const taskPolicy = this.taskDefinition.taskRole.node.tryFindChild('DefaultPolicy');
    if (taskPolicy) {
      acknowledge(taskPolicy, {
        id: wildcardResource(this, this.pipeline.bucket.arnForObjects(`${SMTP_RAW_PREFIX}*`)),
        reason:
          'The task writes new messages under smtp/ (s3:PutObject only); their keys are not known in advance.',
      });
    }
    const executionPolicy = this.taskDefinition.executionRole?.node.tryFindChild('DefaultPolicy');
    if (executionPolicy) {
      acknowledge(executionPolicy, {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Execution role: ecr:GetAuthorizationToken supports no resource-level permissions (CDK grants it on *); image pulls are scoped to the asset repository.',
      });
    }
  }
}
