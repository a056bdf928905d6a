import type { CloudActionPorts, RawLocation } from '../actions/cloud-ports.ts';
import type { MailroomConfig } from '../config/types.ts';

/** The action kinds that need an AWS port, and the client each loads. */
type CloudKind = 'lambda' | 'eventBridge' | 'forward';

/** Which of `lambda()`, `eventBridge()` and `forward()` the config's routes use. */
export function cloudActionKinds(config: Pick<MailroomConfig, 'routes'>): Set<CloudKind> {
  const kinds = new Set<CloudKind>();
  for (const route of config.routes) {
    for (const action of Array.isArray(route.action) ? route.action : [route.action]) {
      if (action.kind === 'lambda' || action.kind === 'eventBridge' || action.kind === 'forward') {
        kinds.add(action.kind);
      }
    }
  }
  return kinds;
}

export interface ProcessorCloudPortsOptions {
  /** `MAILROOM_FORWARD_FROM`. @default the envelope recipient that routed the message */
  forwardFrom?: string;
  /** Where a message's raw object is (put into Lambda and EventBridge action events). */
  rawLocation: (messageId: string) => RawLocation | null;
}

/**
 * The AWS action ports the config needs, with an SDK client for each kind of action its routes use, or
 * undefined when they use none. The clients and `cloud-action-ports.ts` are imported here on demand, so a
 * config without such actions does not pay for loading them at cold start.
 */
export async function loadProcessorCloudPorts(
  config: Pick<MailroomConfig, 'routes'>,
  options: ProcessorCloudPortsOptions,
): Promise<CloudActionPorts | undefined> {
  const kinds = cloudActionKinds(config);
  if (kinds.size === 0) return undefined;
  const [{ createAwsActionPorts }, lambda, eventBridge, ses] = await Promise.all([
    import('./cloud-action-ports.ts'),
    kinds.has('lambda') ? import('@aws-sdk/client-lambda') : undefined,
    kinds.has('eventBridge') ? import('@aws-sdk/client-eventbridge') : undefined,
    kinds.has('forward') ? import('@aws-sdk/client-sesv2') : undefined,
  ]);
  return createAwsActionPorts({
    ...(lambda ? { lambda: new lambda.LambdaClient({}) } : {}),
    ...(eventBridge ? { eventBridge: new eventBridge.EventBridgeClient({}) } : {}),
    ...(ses ? { ses: new ses.SESv2Client({}) } : {}),
    ...(options.forwardFrom === undefined ? {} : { forwardFrom: options.forwardFrom }),
    rawLocation: options.rawLocation,
  });
}
