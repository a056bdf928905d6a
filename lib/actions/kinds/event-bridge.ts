import * as z from 'zod';
import { defineActionKind } from '../action-kind.ts';
import { payloadAttachments } from '../attachment-access.ts';
import { callPort, cloudEvent, cloudPort, truncationNote } from '../cloud-delivery.ts';
import { MAX_CLOUD_EVENT_BYTES } from '../cloud-event.ts';

/** The `source` of events from `eventBridge()` actions that give none. */
export const DEFAULT_EVENT_SOURCE = 'mailroom';
/**
 * The `detail-type` of events from `eventBridge()` actions that give none. Distinct from the processor's
 * own lifecycle events (`mailroom.received`, `mailroom.routed`): this one carries a message routed to you.
 */
export const DEFAULT_EVENT_DETAIL_TYPE = 'mailroom.message';

/** Put the message as one event (a `CloudActionEvent` in `detail`) on an Amazon EventBridge bus. */
export interface EventBridgeAction {
  kind: 'eventBridge';
  /** Bus name or ARN (`default` for the account's default bus). */
  eventBusName: string;
  /** The event's `source` (must not start with `aws.`). @default 'mailroom' */
  source?: string;
  /** The event's `detail-type`. @default 'mailroom.message' */
  detailType?: string;
}

/** An EventBridge bus name or ARN. */
const EVENT_BUS = /^(arn:aws[\w-]*:events:[a-z0-9-]+:\d{12}:event-bus\/)?[/.\-_A-Za-z0-9]{1,256}$/;

/**
 * Put the message as one event on an Amazon EventBridge bus.
 * @param eventBusName Bus name or ARN.
 * @param options.source @default 'mailroom'
 * @param options.detailType @default 'mailroom.message'
 */
export function eventBridge(
  eventBusName: string,
  options: { source?: string; detailType?: string } = {},
): EventBridgeAction {
  return { kind: 'eventBridge', eventBusName, ...options };
}

/** `eventBridge()`: one event on the bus, its `detail` the delivery's `CloudActionEvent`. */
export const eventBridgeKind = defineActionKind<EventBridgeAction>({
  kind: 'eventBridge',
  schema: z.object({
    kind: z.literal('eventBridge'),
    eventBusName: z
      .string()
      .regex(EVENT_BUS, { message: 'must be an event bus name (or ARN) such as "default"' }),
    source: z
      .string()
      .min(1, { message: 'must not be empty' })
      .refine((s) => s.length <= 256, { message: 'must be at most 256 characters' })
      .refine((s) => !s.startsWith('aws.'), { message: 'must not start with "aws." (reserved for AWS)' })
      .optional(),
    detailType: z
      .string()
      .min(1, { message: 'must not be empty' })
      .refine((s) => s.length <= 128, { message: 'must be at most 128 characters' })
      .optional(),
  }),
  target: (action) => action.eventBusName,
  describe: (action) => ({
    eventBusName: action.eventBusName,
    source: action.source ?? null,
    detailType: action.detailType ?? null,
  }),
  cloudPort: 'putEvent',
  grants: (action) => [{ eventBusPut: action.eventBusName }],
  async run(action, run) {
    const put = cloudPort(run, 'putEvent', 'eventBridge');
    const source = action.source ?? DEFAULT_EVENT_SOURCE;
    const detailType = action.detailType ?? DEFAULT_EVENT_DETAIL_TYPE;
    // EventBridge counts source and detail-type into the entry's 256 KiB.
    const maxBytes = MAX_CLOUD_EVENT_BYTES - Buffer.byteLength(source) - Buffer.byteLength(detailType);
    const detail = cloudEvent(run, maxBytes, await payloadAttachments(run));
    const request = {
      eventBusName: action.eventBusName,
      source,
      detailType,
      detail,
      idempotencyKey: run.idempotencyKey,
    };
    const result = await callPort(`eventBridge ${action.eventBusName}`, () => put(request));
    return {
      status: 'delivered',
      detail: `eventBridge ${action.eventBusName}: ${result.detail}${truncationNote(detail)}`,
    };
  },
});
