import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { isRetryable, MailroomError } from '../kernel/index.ts';
import type { EmitEvents } from './mailroom-events.ts';

/** The event source of every event Mailroom puts on a bus. */
export const MAILROOM_EVENT_SOURCE = 'mailroom';

/**
 * Thrown by the emitter when EventBridge refused the call (retryable as the SDK error says) or some of the
 * entries (retryable: PutEvents refuses entries for throttling and internal failures).
 */
export class EventEmitError extends MailroomError {
  override readonly name = 'EventEmitError';
  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options);
  }
}

export interface EventBridgeEmitterOptions {
  /** `new EventBridgeClient({})`; the caller owns it. */
  client: Pick<EventBridgeClient, 'send'>;
  /** Name or ARN of the event bus. */
  eventBusName: string;
  /** @default 'mailroom' */
  source?: string;
}

/**
 * Implements {@link EmitEvents} with EventBridge `PutEvents` (`Source` = `mailroom`, `DetailType` = the
 * event's type, `Detail` = its JSON), ten entries per call as the API allows.
 */
export function eventBridgeEmitter(options: EventBridgeEmitterOptions): EmitEvents {
  const source = options.source ?? MAILROOM_EVENT_SOURCE;
  return async (events) => {
    // Loaded on first use, like the client: a bundle that never emits never loads the EventBridge SDK.
    const { PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
    for (let i = 0; i < events.length; i += 10) {
      const batch = events.slice(i, i + 10);
      let failed: number;
      let firstError: string | undefined;
      try {
        const out = await options.client.send(
          new PutEventsCommand({
            Entries: batch.map((e) => ({
              EventBusName: options.eventBusName,
              Source: source,
              DetailType: e.detailType,
              Detail: JSON.stringify(e.detail),
            })),
          }),
        );
        failed = out.FailedEntryCount ?? 0;
        firstError = out.Entries?.find((e) => e.ErrorCode)?.ErrorCode;
      } catch (cause) {
        throw new EventEmitError(`PutEvents to ${options.eventBusName} failed: ${(cause as Error).message}`, {
          cause,
          retryable: isRetryable(cause),
        });
      }
      if (failed > 0) {
        throw new EventEmitError(
          `PutEvents to ${options.eventBusName}: ${failed} of ${batch.length} entries refused (${firstError ?? 'no error code'})`,
          { retryable: true },
        );
      }
    }
  };
}
