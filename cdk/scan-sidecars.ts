import { Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';

/**
 * The scanners `SmtpIngress` can run beside `mailroom smtp` in the same Fargate task (`spamFilter`,
 * `virusScan`). Containers of one task share its network namespace, so the ingress reaches them on
 * 127.0.0.1; nothing outside the task can.
 */

/** The rspamd image (official, pinned). */
export const RSPAMD_IMAGE = 'rspamd/rspamd:3.11.1';
/** The ClamAV image (Cisco-Talos's official, pinned; it ships a signature database and runs freshclam). */
export const CLAMAV_IMAGE = 'clamav/clamav:1.4.3';
/** rspamd's normal worker, as the ingress reaches it (`scan.rspamd.url`). */
export const RSPAMD_URL = 'http://127.0.0.1:11333';
/** clamd, as the ingress reaches it (`scan.clamav`). */
export const CLAMD_HOST = '127.0.0.1';
export const CLAMD_PORT = 3310;

export interface SpamFilterOptions {
  /** @default ecs.ContainerImage.fromRegistry(RSPAMD_IMAGE) */
  readonly image?: ecs.ContainerImage;
  /** Hard memory limit of the container, MiB. @default 512 */
  readonly memoryLimitMiB?: number;
}

export interface VirusScanOptions {
  /** @default ecs.ContainerImage.fromRegistry(CLAMAV_IMAGE) */
  readonly image?: ecs.ContainerImage;
  /**
   * Hard memory limit of the container, MiB. clamd holds the whole signature database (~1.5 GB with the
   * official databases) and, while freshclam's update is loaded, briefly a second copy.
   * @default 3072
   */
  readonly memoryLimitMiB?: number;
  /** How often freshclam checks for new signatures, per day. @default 12 */
  readonly freshclamChecksPerDay?: number;
}

/** Memory the default sidecars need beside the SMTP container (MiB). */
export const SIDECAR_MEMORY = { rspamd: 512, clamav: 3072 } as const;

/** The rspamd container: health checked on the controller's `/ping` with rspamc's stat. */
export function addRspamd(
  task: ecs.FargateTaskDefinition,
  options: SpamFilterOptions,
  logging: ecs.LogDriver,
): ecs.ContainerDefinition {
  return task.addContainer('rspamd', {
    image: options.image ?? ecs.ContainerImage.fromRegistry(RSPAMD_IMAGE),
    memoryLimitMiB: options.memoryLimitMiB ?? SIDECAR_MEMORY.rspamd,
    essential: true,
    logging,
    portMappings: [{ containerPort: 11333, protocol: ecs.Protocol.TCP }],
    healthCheck: {
      command: ['CMD-SHELL', 'rspamc -h 127.0.0.1:11334 stat > /dev/null || exit 1'],
      interval: Duration.seconds(30),
      timeout: Duration.seconds(5),
      retries: 3,
      startPeriod: Duration.seconds(60),
    },
  });
}

/**
 * The ClamAV container: freshclam brings the image's signatures up to date at start and then
 * `freshclamChecksPerDay` times a day; clamd listens on 3310. Health checked with the image's
 * `clamdcheck.sh` (clamd answers PING), with the longest start period ECS allows (loading the database
 * takes a while).
 */
export function addClamav(
  task: ecs.FargateTaskDefinition,
  options: VirusScanOptions,
  logging: ecs.LogDriver,
): ecs.ContainerDefinition {
  return task.addContainer('clamav', {
    image: options.image ?? ecs.ContainerImage.fromRegistry(CLAMAV_IMAGE),
    memoryLimitMiB: options.memoryLimitMiB ?? SIDECAR_MEMORY.clamav,
    memoryReservationMiB: 1536,
    essential: true,
    logging,
    environment: { FRESHCLAM_CHECKS: String(options.freshclamChecksPerDay ?? 12) },
    portMappings: [{ containerPort: CLAMD_PORT, protocol: ecs.Protocol.TCP }],
    healthCheck: {
      command: ['CMD-SHELL', 'clamdcheck.sh || exit 1'],
      interval: Duration.seconds(60),
      timeout: Duration.seconds(10),
      retries: 3,
      startPeriod: Duration.seconds(300),
    },
  });
}
