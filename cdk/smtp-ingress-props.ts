import type { Duration } from 'aws-cdk-lib';
import { Token } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { MailroomPipeline } from './mailroom-pipeline.ts';
import { PropsProblems } from './props-error.ts';
import { SIDECAR_MEMORY, type SpamFilterOptions, type VirusScanOptions } from './scan-sidecars.ts';

/** Settings of an `SmtpIngress`. */
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
   * Route 53 zone for the ingress's records: an A alias record `hostname` → the load balancer, and an
   * MX record (priority 10) pointing to `hostname`.
   * @default no records
   */
  readonly hostedZone?: route53.IHostedZone;
  /**
   * Name of the MX record within `hostedZone`.
   * @default the zone apex
   */
  readonly mxRecordName?: string;
  /**
   * The ingress's public host name: the name in the 220 greeting, EHLO and `Received:` (passed to
   * `mailroom smtp` as `MAILROOM_SMTP_HOSTNAME`, which sets `smtp.hostname`), the alias record in
   * `hostedZone` and the MX target. Your STARTTLS certificate (`tlsSecret`) should name it: no certificate
   * can name the load balancer's `amazonaws.com` name.
   * @default `mx.<zone name>` with `hostedZone`, else the config's `smtp.hostname`
   */
  readonly hostname?: string;
  /**
   * How long a task leaving the service (scale-in, deployment) keeps its open sessions: the target
   * groups' deregistration delay. New connections go elsewhere at once; the task is stopped (SIGTERM,
   * then up to 120 s for `mailroom smtp` to finish, see `smtp.closeTimeoutMs`) only after this delay.
   * At least the config's `smtp.dataTerminationTimeoutMs`, so a message in DATA is answered; at most 1 hour.
   * @default the config's `smtp.dataTerminationTimeoutMs` (10 minutes unless the config says otherwise)
   */
  readonly drainTimeout?: Duration;
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

/** Every problem of `props` (thrown by the caller together with the image's). */
export function validateSmtpIngressProps(props: SmtpIngressProps): PropsProblems {
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
  validatePublicName(props, problems);
  const timeouts = props.pipeline.configSummary?.smtpTimeouts;
  if (props.drainTimeout && timeouts) {
    const drain = props.drainTimeout.toSeconds();
    const need = Math.ceil(timeouts.dataTerminationMs / 1000);
    problems.check(
      drain >= need && drain <= 3600,
      `drainTimeout must be from smtp.dataTerminationTimeoutMs (${need} s) to 1 hour, got ${drain} s`,
    );
  }
  for (const name of Object.keys(props.environment ?? {})) {
    problems.check(
      ![
        'MAILROOM_RAW_BUCKET',
        'MAILROOM_RAW_PREFIX',
        'MAILROOM_SMTP_PORT',
        'MAILROOM_PROXY_TRUSTED',
        'MAILROOM_SMTP_HOSTNAME',
        'MAILROOM_SUBMISSION_PORT',
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

/** `hostname` is a DNS name, within `hostedZone` when there is one (the alias record lives there). */
function validatePublicName(props: SmtpIngressProps, problems: PropsProblems): void {
  const { hostname, hostedZone } = props;
  if (hostname === undefined || Token.isUnresolved(hostname)) return;
  problems.check(
    hostname.length <= 253 &&
      hostname.split('.').every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(label)),
    `hostname must be a DNS name like mx.example.com, got ${JSON.stringify(hostname)}`,
  );
  if (hostedZone && !Token.isUnresolved(hostedZone.zoneName)) {
    const zone = hostedZone.zoneName.replace(/\.$/, '').toLowerCase();
    const name = hostname.toLowerCase();
    problems.check(
      name === zone || name.endsWith(`.${zone}`),
      `hostname ${hostname} is outside hostedZone ${zone}: its alias record must live in the zone`,
    );
  }
}

/** The sidecar's options: null when off, `{}` for `true`. */
export function sidecarOptions<T extends object>(value: boolean | T | undefined): T | null {
  if (value === undefined || value === false) return null;
  return value === true ? ({} as T) : value;
}

/** The task memory by default: the SMTP container's 1 GiB plus the sidecars', rounded up to a Fargate size. */
export function defaultTaskMemory(spam: SpamFilterOptions | null, virus: VirusScanOptions | null): number {
  if (!spam && !virus) return 1024;
  const need =
    1024 +
    (spam ? (spam.memoryLimitMiB ?? SIDECAR_MEMORY.rspamd) : 0) +
    (virus ? (virus.memoryLimitMiB ?? SIDECAR_MEMORY.clamav) : 0);
  return Math.ceil(need / 1024) * 1024;
}
