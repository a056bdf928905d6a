// Types only at load time: each SDK package is imported when its first action runs (the caller passes
// clients only for the kinds its routes use), so a Lambda cold start loads just what it needs.
import type { PutEventsCommand, PutEventsCommandOutput } from '@aws-sdk/client-eventbridge';
import type { InvokeCommand, InvokeCommandOutput } from '@aws-sdk/client-lambda';
import type { SendEmailCommand, SendEmailCommandOutput } from '@aws-sdk/client-sesv2';
import type { CloudActionPorts, RawLocation } from '../actions/index.ts';
import { AwsActionError, awsCallError } from './aws-action-error.ts';

/** The part of a `LambdaClient` the ports use (a real client satisfies it). */
export interface LambdaInvokeClient {
  send(command: InvokeCommand): Promise<Pick<InvokeCommandOutput, 'StatusCode' | 'FunctionError'>>;
}
/** The part of an `EventBridgeClient` the ports use. */
export interface EventBridgePutClient {
  send(command: PutEventsCommand): Promise<Pick<PutEventsCommandOutput, 'FailedEntryCount' | 'Entries'>>;
}
/** The part of an `SESv2Client` the ports use. */
export interface SesSendEmailClient {
  send(command: SendEmailCommand): Promise<Pick<SendEmailCommandOutput, 'MessageId'>>;
}

/** Whether a PutEvents entry refused with `code` may be accepted later (throttling, an internal failure). */
function isRetryableEntryError(code: string | undefined): boolean {
  return code === undefined || code === 'InternalFailure' || /Throttl/i.test(code);
}

/** SES (API v2) refuses larger messages: 40 MB, attachments included. */
export const SES_MAX_MESSAGE_BYTES = 40 * 1024 * 1024;

export interface AwsActionPortsOptions {
  /** `new LambdaClient({})` for `lambda()` actions; the caller owns it. @default none (they fail) */
  lambda?: LambdaInvokeClient;
  /** `new EventBridgeClient({})` for `eventBridge()` actions. @default none (they fail) */
  eventBridge?: EventBridgePutClient;
  /** `new SESv2Client({})` for `forward()` actions. @default none (they fail) */
  ses?: SesSendEmailClient;
  /**
   * Default From of forwards (`MAILROOM_FORWARD_FROM`): an SES-verified address or one on a verified
   * domain, `fwd@example.com` or `Support <fwd@example.com>`.
   * @default the envelope recipient that routed the message (on the receiving domain, which SES receiving
   * verified)
   */
  forwardFrom?: string;
  /** SES configuration set for forwards (event publishing, IP pools). @default none */
  configurationSetName?: string;
  /** Where a message's raw object is, put into events as `data.raw.location`. @default unknown (null) */
  rawLocation?: (messageId: string) => RawLocation | null;
}

/**
 * The action ports on AWS:
 * - `invokeLambda`: `Invoke` with `InvocationType: 'Event'` (asynchronous; Lambda answers 202 once the
 *   event is queued; the function's own errors are Lambda's retries and its on-failure destination);
 * - `putEvent`: `PutEvents` with one entry; an entry EventBridge refused (`FailedEntryCount`, the entry's
 *   `ErrorCode`) is an error, so the delivery is retried;
 * - `forward`: SESv2 `SendEmail` with `Content.Raw` (the rewritten message), `FromEmailAddress` the
 *   verified From, `Destination.ToAddresses` the forward targets only (the message's own To and Cc
 *   headers receive nothing).
 * Errors are {@link AwsActionError}s carrying the AWS code, HTTP status and the SDK error as `cause`.
 */
export function createAwsActionPorts(options: AwsActionPortsOptions): CloudActionPorts {
  const ports: CloudActionPorts = {};
  const { lambda, eventBridge, ses } = options;
  if (options.forwardFrom !== undefined) ports.forwardFrom = options.forwardFrom;
  if (options.rawLocation) ports.rawLocation = options.rawLocation;

  if (lambda) {
    ports.invokeLambda = async (request) => {
      const { InvokeCommand } = await import('@aws-sdk/client-lambda');
      let out: Pick<InvokeCommandOutput, 'StatusCode' | 'FunctionError'>;
      try {
        out = await lambda.send(
          new InvokeCommand({
            FunctionName: request.functionName,
            Qualifier: request.qualifier,
            InvocationType: 'Event',
            Payload: Buffer.from(JSON.stringify(request.event), 'utf8'),
          }),
        );
      } catch (cause) {
        throw awsCallError('Lambda Invoke', cause);
      }
      if (out.StatusCode !== 202) {
        throw new AwsActionError(
          `Lambda Invoke answered ${out.StatusCode ?? 'no status'} instead of 202 (queued)` +
            (out.FunctionError ? `: ${out.FunctionError}` : ''),
          { status: out.StatusCode, retryable: true },
        );
      }
      return { detail: 'queued (202)' };
    };
  }

  if (eventBridge) {
    ports.putEvent = async (request) => {
      const { PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
      let out: Pick<PutEventsCommandOutput, 'FailedEntryCount' | 'Entries'>;
      try {
        out = await eventBridge.send(
          new PutEventsCommand({
            Entries: [
              {
                EventBusName: request.eventBusName,
                Source: request.source,
                DetailType: request.detailType,
                Detail: JSON.stringify(request.detail),
              },
            ],
          }),
        );
      } catch (cause) {
        throw awsCallError('EventBridge PutEvents', cause);
      }
      const entry = out.Entries?.[0];
      if ((out.FailedEntryCount ?? 0) > 0 || entry?.ErrorCode) {
        const code = entry?.ErrorCode ?? 'no error code';
        throw new AwsActionError(
          `EventBridge refused the event: ${code}${entry?.ErrorMessage ? `: ${entry.ErrorMessage}` : ''}`,
          { code: entry?.ErrorCode, retryable: isRetryableEntryError(entry?.ErrorCode) },
        );
      }
      if (!entry?.EventId)
        throw new AwsActionError('EventBridge PutEvents answered without an event id', { retryable: true });
      return { detail: `event ${entry.EventId}` };
    };
  }

  if (ses) {
    ports.forward = async (request) => {
      if (request.raw.length > SES_MAX_MESSAGE_BYTES) {
        throw new AwsActionError(
          `the forwarded message is ${request.raw.length} bytes; SES sends at most ${SES_MAX_MESSAGE_BYTES}`,
          { retryable: false },
        );
      }
      const { SendEmailCommand } = await import('@aws-sdk/client-sesv2');
      let out: Pick<SendEmailCommandOutput, 'MessageId'>;
      try {
        out = await ses.send(
          new SendEmailCommand({
            FromEmailAddress: request.envelope.from,
            Destination: { ToAddresses: [...request.envelope.to] },
            Content: { Raw: { Data: request.raw } },
            ConfigurationSetName: options.configurationSetName,
          }),
        );
      } catch (cause) {
        throw awsCallError('SES SendEmail', cause);
      }
      return { detail: `SES message ${out.MessageId ?? '(no id)'}` };
    };
  }
  return ports;
}
