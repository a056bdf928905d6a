import {
  type CloudActionPorts,
  type CloudPortName,
  cloudPortsUsed,
  type RawLocation,
} from '../actions/index.ts';
import type { MailroomConfig } from '../config/index.ts';
import type { AwsActionPortsOptions } from './aws-sdk-ports.ts';
import { traced } from './observability/tracing.ts';

/** The SDK client each port of `CloudActionPorts` needs, loaded on demand. */
const CLIENT_OF: Record<CloudPortName, () => Promise<Partial<AwsActionPortsOptions>>> = {
  invokeLambda: async () => ({
    lambda: traced(new (await import('@aws-sdk/client-lambda')).LambdaClient({})),
  }),
  putEvent: async () => ({
    eventBridge: traced(new (await import('@aws-sdk/client-eventbridge')).EventBridgeClient({})),
  }),
  forward: async () => ({ ses: traced(new (await import('@aws-sdk/client-sesv2')).SESv2Client({})) }),
};

export interface ProcessorCloudPortsOptions {
  /** `MAILROOM_FORWARD_FROM`. @default the envelope recipient that routed the message */
  forwardFrom?: string;
  /** Where a message's raw object is (put into Lambda and EventBridge action events). */
  rawLocation: (messageId: string) => RawLocation | null;
}

/**
 * The AWS action ports the config needs, with an SDK client for each port its routes' action kinds use
 * (each kind names its port), or undefined when they use none. The clients and `aws-sdk-ports.ts` are
 * imported here on demand, so a config without such actions does not pay for loading them at cold start.
 */
export async function loadProcessorCloudPorts(
  config: Pick<MailroomConfig, 'routes'>,
  options: ProcessorCloudPortsOptions,
): Promise<CloudActionPorts | undefined> {
  const ports = cloudPortsUsed(config);
  if (ports.size === 0) return undefined;
  const [{ createAwsActionPorts }, ...clients] = await Promise.all([
    import('./aws-sdk-ports.ts'),
    ...[...ports].map((port) => CLIENT_OF[port]()),
  ]);
  const withClients: Partial<AwsActionPortsOptions> = {};
  for (const client of clients) Object.assign(withClients, client);
  return createAwsActionPorts({
    ...withClients,
    ...(options.forwardFrom === undefined ? {} : { forwardFrom: options.forwardFrom }),
    rawLocation: options.rawLocation,
  });
}
