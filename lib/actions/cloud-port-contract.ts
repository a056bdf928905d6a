// The contract between the actions that reach other services (lambda, eventBridge, forward) and the
// environment that carries them out: AWS (lib/aws/aws-sdk-ports.ts) or a stand-in (local-port-stand-ins.ts).
import type { OutboundContext, OutboundEnvelope } from '../outbound/index.ts';
import type { CloudActionEvent, RawLocation } from './cloud-event.ts';

export type { RawLocation };

/** One asynchronous Lambda invocation. */
export interface LambdaInvokeRequest {
  functionName: string;
  qualifier?: string;
  /** The payload, sent as JSON. */
  event: CloudActionEvent;
  /** The delivery's key (also `event.id`): consumers deduplicate on it. */
  idempotencyKey: string;
}

/** One event for an EventBridge bus. */
export interface PutEventRequest {
  eventBusName: string;
  source: string;
  detailType: string;
  /** The event's `detail`, sent as JSON. */
  detail: CloudActionEvent;
  /** The delivery's key (also `detail.id`): consumers deduplicate on it. */
  idempotencyKey: string;
}

/** A forwarded message, already rewritten (see `forwardMessage`), ready to hand to a transport. */
export interface ForwardRequest {
  raw: Buffer;
  /** `from`: the verified sending address; `to`: the forward targets (the only recipients). */
  envelope: OutboundEnvelope;
  /** Outbox key (derived from the delivery's key), Message-ID, subject, date. */
  context: OutboundContext;
  idempotencyKey: string;
}

/** What a port did, for the delivery's trace. */
export interface CloudActionResult {
  /** e.g. `accepted (202)`, `event 6f1c… on bus orders`, `SES message 0100…`. */
  detail: string;
}

/**
 * How `lambda()`, `eventBridge()` and `forward()` actions reach the outside world. The core never imports
 * the AWS SDK: the Lambda processor injects `createAwsActionPorts(...)` from `lib/aws`, `mailroom dev`
 * injects `createLocalActionPorts(...)`. Every member is optional; an action whose port is missing fails
 * with a `DeliveryError` that says where it can run.
 *
 * A port resolves when the service accepted the request and throws otherwise (the delivery is retried).
 * Ports never see the whole raw message except `forward`.
 */
export interface CloudActionPorts {
  /** Invoke a function asynchronously (`InvocationType: 'Event'`). */
  invokeLambda?(request: LambdaInvokeRequest): Promise<CloudActionResult>;
  /** Put one event on a bus; throws when EventBridge refused the entry. */
  putEvent?(request: PutEventRequest): Promise<CloudActionResult>;
  /** Send a forwarded message to `request.envelope.to` only. */
  forward?(request: ForwardRequest): Promise<CloudActionResult>;
  /** Default From of forwarded messages (a verified address), when the action gives none. */
  forwardFrom?: string;
  /** Where the raw message `messageId` is stored, when the port knows (put into the event's `raw`). */
  rawLocation?(messageId: string): RawLocation | null;
}

/** The ports an action kind can need (see `ActionKind.cloudPort`): what lib/aws loads a client for. */
export type CloudPortName = 'invokeLambda' | 'putEvent' | 'forward';
