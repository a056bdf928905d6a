import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';

/** The port the container's SMTP server listens on (Dockerfile); the load balancer listens on 25. */
export const SMTP_CONTAINER_PORT = 2525;
/** The port the container's submission listener listens on (`MAILROOM_SUBMISSION_PORT`); the load balancer listens on 587. */
export const SUBMISSION_CONTAINER_PORT = 2587;

/**
 * The container's health check: an SMTP client inside the task that connects to the server on
 * 127.0.0.1 (outside the trusted proxy range, so no PROXY header is expected), waits for the `220`
 * greeting and says QUIT. A server that still accepts TCP but no longer greets — what the load
 * balancer's TCP health check cannot see — fails it, and ECS replaces the task. Runs with the image's
 * `node`.
 */
export function bannerHealthCheck(port: number = SMTP_CONTAINER_PORT): ecs.HealthCheck {
  const script = [
    `const s=require('node:net').connect(${port},'127.0.0.1');`,
    's.setTimeout(4000,()=>process.exit(1));',
    "s.on('error',()=>process.exit(1));",
    "s.once('data',(d)=>{const ok=/^220[ -]/.test(String(d));s.end('QUIT\\r\\n');process.exit(ok?0:1);});",
  ].join('');
  return {
    command: ['CMD', 'node', '-e', script],
    interval: Duration.seconds(30),
    timeout: Duration.seconds(5),
    retries: 3,
    startPeriod: Duration.seconds(30),
  };
}

export interface SmtpListenersOptions {
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  readonly service: ecs.FargateService;
  /** Where clients may connect from. */
  readonly allowFrom: ec2.IPeer;
  /** The target groups' deregistration delay: how long a leaving task keeps its sessions. */
  readonly drainTimeout: Duration;
  /** Open 587 for the config's submission listener. */
  readonly submission: boolean;
}

export interface SmtpListeners {
  readonly listener: elbv2.NetworkListener;
  readonly targetGroup: elbv2.NetworkTargetGroup;
  readonly submissionListener?: elbv2.NetworkListener;
  readonly submissionTargetGroup?: elbv2.NetworkTargetGroup;
}

/**
 * The load balancer's listeners: TCP 25 → 2525 with PROXY protocol v2 (the server sees each client's
 * address for `Received:`, limits and SPF), and with `submission` TCP 587 → 2587. The submission
 * listener takes no PROXY header (`mailroom smtp` reads none there), so its target group preserves the
 * client's address instead: per-address login limits then count clients, not load balancer nodes.
 *
 * Health checks are TCP connects: a Network Load Balancer offers TCP, HTTP and HTTPS checks only, and an
 * HTTP check against an SMTP port fails. The container's {@link bannerHealthCheck} checks the greeting.
 */
export function addSmtpListeners(options: SmtpListenersOptions): SmtpListeners {
  const { loadBalancer, service, allowFrom } = options;
  const healthCheck: elbv2.HealthCheck = {
    protocol: elbv2.Protocol.TCP,
    interval: Duration.seconds(10),
    healthyThresholdCount: 2,
    unhealthyThresholdCount: 2,
  };
  const target = (containerPort: number) =>
    service.loadBalancerTarget({ containerName: 'smtp', containerPort });

  loadBalancer.connections.allowFrom(allowFrom, ec2.Port.tcp(25), 'SMTP');
  service.connections.allowFrom(loadBalancer, ec2.Port.tcp(SMTP_CONTAINER_PORT), 'SMTP and health checks');
  const listener = loadBalancer.addListener('Smtp', { port: 25, protocol: elbv2.Protocol.TCP });
  const targetGroup = listener.addTargets('Smtp', {
    port: SMTP_CONTAINER_PORT,
    protocol: elbv2.Protocol.TCP,
    targets: [target(SMTP_CONTAINER_PORT)],
    // The client's address reaches the server in a PROXY v2 header (trusted from the VPC CIDR only).
    proxyProtocolV2: true,
    healthCheck,
    deregistrationDelay: options.drainTimeout,
  });
  if (!options.submission) return { listener, targetGroup };

  loadBalancer.connections.allowFrom(allowFrom, ec2.Port.tcp(587), 'SMTP submission');
  service.connections.allowFrom(
    loadBalancer,
    ec2.Port.tcp(SUBMISSION_CONTAINER_PORT),
    'SMTP submission and health checks',
  );
  const submissionListener = loadBalancer.addListener('Submission', {
    port: 587,
    protocol: elbv2.Protocol.TCP,
  });
  const submissionTargetGroup = submissionListener.addTargets('Submission', {
    port: SUBMISSION_CONTAINER_PORT,
    protocol: elbv2.Protocol.TCP,
    targets: [target(SUBMISSION_CONTAINER_PORT)],
    preserveClientIp: true,
    healthCheck,
    deregistrationDelay: options.drainTimeout,
  });
  return { listener, targetGroup, submissionListener, submissionTargetGroup };
}
