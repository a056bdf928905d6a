import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack, Stage, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { type MailroomPipeline, SMTP_RAW_PREFIX } from './mailroom-pipeline.ts';
import { acknowledge, wildcardResource } from './nag.ts';
import { PropsProblems } from './props-error.ts';
import {
  addClamav,
  addRspamd,
  CLAMD_HOST,
  CLAMD_PORT,
  RSPAMD_URL,
  SIDECAR_MEMORY,
  type SpamFilterOptions,
  type VirusScanOptions,
} from './scan-sidecars.ts';
import { ConfigBundleError, IMAGE_CONFIG_PATH, writeImageContext } from './smtp-image.ts';

/** The port the container's SMTP server listens on (Dockerfile); the load balancer listens on 25. */
export const SMTP_CONTAINER_PORT = 2525;

export interface SmtpIngressProps {
  /** The pipeline whose bucket receives the mail (`smtp/<id>.eml`). */
  readonly pipeline: MailroomPipeline;
  /**
   * The VPC for the load balancer and the tasks.
   * @default a new VPC over 2 AZs with public subnets only, no NAT gateway, an S3 gateway endpoint and
   * flow logs; tasks get public IPs for outbound traffic (ECR, logs, Secrets Manager) and their security
   * group admits only the load balancer
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets of the tasks.
   * @default the public subnets of the new VPC, or the private subnets (with egress) of a given `vpc`
   */
  readonly taskSubnets?: ec2.SubnetSelection;
  /**
   * Give tasks public IPs (needed in public subnets without NAT to reach ECR, logs and Secrets Manager).
   * @default true with the new VPC, false with a given `vpc`
   */
  readonly assignPublicIp?: boolean;
  /**
   * Secrets Manager secret with the STARTTLS certificate: a JSON object with PEM fields `cert` and `key`
   * (injected as MAILROOM_TLS_CERT / MAILROOM_TLS_KEY).
   * @default no STARTTLS certificate from a secret
   */
  readonly tlsSecret?: secretsmanager.ISecret;
  /**
   * The container image running `mailroom smtp`; it must hold the pipeline's config (set
   * `MAILROOM_CONFIG` in the image).
   * @default built (linux/arm64) from a Docker context this construct generates in the cloud assembly: the
   * compiled `mailroom smtp` of the Mailroom package your app runs, and the pipeline's config bundled
   * into one JavaScript file (`/app/mailroom.config.mjs`)
   */
  readonly image?: ecs.ContainerImage;
  /**
   * Extra environment for the container (MAILROOM_* settings of `mailroom smtp`).
   * @default none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Task CPU units.
   * @default 512
   */
  readonly cpu?: number;
  /**
   * Task memory in MiB.
   * @default 1024
   */
  readonly memoryLimitMiB?: number;
  /**
   * Fewest tasks (also the initial count); 2 keeps one per AZ.
   * @default 2
   */
  readonly minCapacity?: number;
  /**
   * Most tasks.
   * @default 10
   */
  readonly maxCapacity?: number;
  /**
   * Average CPU utilization autoscaling keeps the service at (percent).
   * @default 60
   */
  readonly cpuTargetUtilization?: number;
  /**
   * Where port 25 is open from.
   * @default ec2.Peer.anyIpv4() (a public MX must accept mail from anyone)
   */
  readonly allowFrom?: ec2.IPeer;
  /**
   * How long the container logs are kept.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Route 53 zone for an MX record pointing to the load balancer.
   * @default no record
   */
  readonly hostedZone?: route53.IHostedZone;
  /**
   * Name of the MX record within `hostedZone`.
   * @default the zone apex
   */
  readonly mxRecordName?: string;
  /**
   * Run rspamd beside `mailroom smtp` in each task (a sidecar container, health checked; the SMTP container
   * starts once it is healthy). The container gets `MAILROOM_SCAN_RSPAMD_URL` (`http://127.0.0.1:11333`);
   * your config turns scanning on with `scan: { rspamd: { url: process.env.MAILROOM_SCAN_RSPAMD_URL } }`.
   * @default false
   */
  readonly spamFilter?: boolean | SpamFilterOptions;
  /**
   * Run ClamAV's clamd (with freshclam) beside `mailroom smtp` in each task, sized for its ~1.5 GB
   * signature database. The container gets `MAILROOM_SCAN_CLAMAV_HOST` / `MAILROOM_SCAN_CLAMAV_PORT`; your
   * config says `scan: { clamav: { host: process.env.MAILROOM_SCAN_CLAMAV_HOST, port: 3310 } }`.
   * The task's default size grows to 1 vCPU and 4 GiB.
   * @default false
   */
  readonly virusScan?: boolean | VirusScanOptions;
}

/**
 * Mailroom's self-hosted SMTP ingress: `mailroom smtp` on Fargate (ARM64) behind an internet-facing Network
 * Load Balancer (TCP 25 → 2525 with PROXY protocol v2, so the server sees each client's address), writing
 * each accepted message to the pipeline bucket before answering 250. The task may only PutObject under
 * `smtp/`; S3 event notifications take it from there.
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
  /** The pipeline the tasks write into. */
  readonly pipeline: MailroomPipeline;

  /** The generated Docker build context of the image, when this construct builds it. */
  readonly imageContext?: string;

  constructor(scope: Construct, id: string, props: SmtpIngressProps) {
    super(scope, id);
    const problems = validate(props);
    if (!props.image) this.imageContext = this.writeImageContext(props.pipeline, problems);
    problems.throwIfAny();
    const { pipeline } = props;
    this.pipeline = pipeline;
    const stack = Stack.of(this);

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
    const smtpContainer = this.taskDefinition.addContainer('smtp', {
      image:
        props.image ?? ecs.ContainerImage.fromAsset(this.imageContext!, { platform: Platform.LINUX_ARM64 }),
      // The image's CMD runs `mailroom smtp`; configuration is the environment.
      environment: {
        ...props.environment,
        MAILROOM_RAW_BUCKET: pipeline.bucket.bucketName,
        MAILROOM_RAW_PREFIX: SMTP_RAW_PREFIX,
        MAILROOM_PROXY_TRUSTED: this.vpc.vpcCidrBlock,
        MAILROOM_SMTP_PORT: String(SMTP_CONTAINER_PORT),
        ...(props.image ? {} : { MAILROOM_CONFIG: IMAGE_CONFIG_PATH }),
        ...scanEnvironment,
        AWS_REGION: stack.region,
      },
      secrets,
      portMappings: [{ containerPort: SMTP_CONTAINER_PORT, protocol: ecs.Protocol.TCP }],
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'smtp', logGroup }),
      // Fargate's maximum: lets open SMTP sessions finish when a task is stopped.
      stopTimeout: Duration.seconds(120),
    });
    // No mail is taken before the scanners answer (fail-open would let it through unscanned).
    for (const sidecar of sidecars) {
      smtpContainer.addContainerDependencies({
        container: sidecar,
        condition: ecs.ContainerDependencyCondition.HEALTHY,
      });
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'ServiceSecurityGroup', {
      vpc: this.vpc,
      description: 'Mailroom SMTP tasks: port 2525 from the load balancer only',
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
      description: 'Mailroom SMTP load balancer: port 25 from the internet',
      allowAllOutbound: false,
    });
    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      crossZoneEnabled: true,
      securityGroups: [this.loadBalancerSecurityGroup],
    });
    this.loadBalancer.connections.allowFrom(props.allowFrom ?? ec2.Peer.anyIpv4(), ec2.Port.tcp(25), 'SMTP');
    this.service.connections.allowFrom(
      this.loadBalancer,
      ec2.Port.tcp(SMTP_CONTAINER_PORT),
      'SMTP and health checks',
    );

    this.listener = this.loadBalancer.addListener('Smtp', { port: 25, protocol: elbv2.Protocol.TCP });
    this.targetGroup = this.listener.addTargets('Smtp', {
      port: SMTP_CONTAINER_PORT,
      protocol: elbv2.Protocol.TCP,
      targets: [
        this.service.loadBalancerTarget({ containerName: 'smtp', containerPort: SMTP_CONTAINER_PORT }),
      ],
      // The client's address reaches the server in a PROXY v2 header (trusted from the VPC CIDR only).
      proxyProtocolV2: true,
      healthCheck: {
        protocol: elbv2.Protocol.TCP,
        interval: Duration.seconds(10),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 2,
      },
      deregistrationDelay: Duration.seconds(120),
    });

    if (props.hostedZone) {
      new route53.MxRecord(this, 'Mx', {
        zone: props.hostedZone,
        recordName: props.mxRecordName,
        values: [{ priority: 10, hostName: this.loadBalancer.loadBalancerDnsName }],
      });
    }

    this.acknowledgeNagFindings();
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

/** Every problem of `props` (thrown by the caller together with the image's). */
function validate(props: SmtpIngressProps): PropsProblems {
  const problems = new PropsProblems('SmtpIngress');
  problems.check(
    !Object.keys(props.environment ?? {}).includes('MAILROOM_CONFIG'),
    'environment must not set MAILROOM_CONFIG: SmtpIngress runs the config the pipeline bundles',
  );
  const min = props.minCapacity ?? 2;
  const max = props.maxCapacity ?? 10;
  problems.check(Number.isInteger(min) && min >= 1, `minCapacity must be an integer ≥ 1, got ${min}`);
  problems.check(
    Number.isInteger(max) && max >= min,
    `maxCapacity must be an integer ≥ minCapacity (${min}), got ${max}`,
  );
  const target = props.cpuTargetUtilization ?? 60;
  problems.check(
    target >= 10 && target <= 90,
    `cpuTargetUtilization must be from 10 to 90 percent, got ${target}`,
  );
  problems.check(
    props.mxRecordName === undefined || props.hostedZone !== undefined,
    'mxRecordName needs hostedZone',
  );
  for (const name of Object.keys(props.environment ?? {})) {
    problems.check(
      ![
        'MAILROOM_RAW_BUCKET',
        'MAILROOM_RAW_PREFIX',
        'MAILROOM_SMTP_PORT',
        'MAILROOM_PROXY_TRUSTED',
      ].includes(name),
      `environment must not set ${name}: SmtpIngress sets it`,
    );
    problems.check(
      !/^MAILROOM_TLS_(CERT|KEY)$/.test(name),
      `environment must not carry ${name}: give tlsSecret (injected from Secrets Manager)`,
    );
    problems.check(
      name !== 'MAILROOM_REPLY_KEY',
      'environment must not carry MAILROOM_REPLY_KEY: give the pipeline a replyKeySecret (injected from Secrets Manager)',
    );
  }
  problems.check(
    props.taskSubnets === undefined || props.vpc !== undefined,
    'taskSubnets needs vpc (the new VPC has public subnets only)',
  );
  const spam = sidecarOptions(props.spamFilter);
  const virus = sidecarOptions(props.virusScan);
  if (props.memoryLimitMiB !== undefined && !Token.isUnresolved(props.memoryLimitMiB) && (spam || virus)) {
    const need = defaultTaskMemory(spam, virus);
    problems.check(
      props.memoryLimitMiB >= need,
      `memoryLimitMiB ${props.memoryLimitMiB} is too small for the scanner sidecars: give at least ${need}`,
    );
  }
  for (const name of Object.keys(props.environment ?? {})) {
    problems.check(
      !name.startsWith('MAILROOM_SCAN_'),
      `environment must not set ${name}: spamFilter / virusScan set it`,
    );
  }
  if (props.cpu !== undefined && !Token.isUnresolved(props.cpu)) {
    problems.check(
      [256, 512, 1024, 2048, 4096, 8192, 16384].includes(props.cpu),
      `cpu ${props.cpu} is not a Fargate size`,
    );
  }
  return problems;
}

function sidecarOptions<T extends object>(value: boolean | T | undefined): T | null {
  if (value === undefined || value === false) return null;
  return value === true ? ({} as T) : value;
}

/** The task memory by default: the SMTP container's 1 GiB plus the sidecars', rounded up to a Fargate size. */
function defaultTaskMemory(spam: SpamFilterOptions | null, virus: VirusScanOptions | null): number {
  if (!spam && !virus) return 1024;
  const need =
    1024 +
    (spam ? (spam.memoryLimitMiB ?? SIDECAR_MEMORY.rspamd) : 0) +
    (virus ? (virus.memoryLimitMiB ?? SIDECAR_MEMORY.clamav) : 0);
  return Math.ceil(need / 1024) * 1024;
}
