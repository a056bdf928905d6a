/**
 * How the processor reschedules a message whose delivery failed transiently: a small message back onto the
 * processing queue, delayed with SQS's `DelaySeconds` (at most 15 minutes; a longer wait is a chain of
 * such messages, each re-sent until its `notBefore` has come), while the original queue message is
 * acknowledged. The message carries where the raw object is, not the mail.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { SES_MESSAGE_ID_PATTERN } from './sqs-event-schemas.ts';

/** The longest `DelaySeconds` SQS accepts. */
export const MAX_SQS_DELAY_SECONDS = 900;

/** Sends a message body to the processing queue after a delay. */
export interface RetryQueue {
  send(body: string, delaySeconds: number): Promise<void>;
}

/** A {@link RetryQueue} on an SQS queue (`MAILROOM_QUEUE_URL`); the SDK is loaded on first use. */
export function sqsRetryQueue(queueUrl: string, client?: SQSClient): RetryQueue {
  let sdk: Promise<{ client: SQSClient; Command: typeof import('@aws-sdk/client-sqs').SendMessageCommand }>;
  const load = () => {
    sdk ??= import('@aws-sdk/client-sqs').then((m) => ({
      client: client ?? new m.SQSClient({}),
      Command: m.SendMessageCommand,
    }));
    return sdk;
  };
  return {
    async send(body, delaySeconds) {
      const { client: sqs, Command } = await load();
      await sqs.send(new Command({ QueueUrl: queueUrl, MessageBody: body, DelaySeconds: delaySeconds }));
    },
  };
}

/** The body of a rescheduled message: `{"mailroomRetry": {…}}`. */
export const retryMessageSchema = z.object({
  mailroomRetry: z
    .object({
      /** Mailroom's id, or SES's message id (the broader of the two patterns). */
      id: z.string().regex(SES_MESSAGE_ID_PATTERN),
      origin: z.enum(['smtp', 'ses']),
      bucket: z.string().min(1),
      key: z.string().min(1),
      /** The SMTP envelope of an SES message (a `mailroom smtp` object carries its own). */
      envelope: z.object({ mailFrom: z.string(), rcptTo: z.array(z.string()).min(1) }).optional(),
      receivedAt: z.string().optional(),
      /** ISO 8601: run no earlier than this (a wait longer than SQS's delay is a chain of messages). */
      notBefore: z.string().datetime(),
      /** The `DelaySeconds` it was sent with (for logs and tests: SQS does not hand it back). */
      delaySeconds: z.number().int().min(0).max(MAX_SQS_DELAY_SECONDS),
    })
    .strict(),
});
export type RetryMessage = z.infer<typeof retryMessageSchema>['mailroomRetry'];

/** The delay SQS can give for a wait until `notBefore`: whole seconds, at most 15 minutes. */
export function sqsDelaySeconds(notBefore: Date, now: Date): number {
  const seconds = Math.ceil((notBefore.getTime() - now.getTime()) / 1000);
  return Math.min(MAX_SQS_DELAY_SECONDS, Math.max(0, seconds));
}
