/**
 * The shapes of the events the processing Lambda receives, as zod schemas. Only the fields Mailroom reads
 * are declared; everything else AWS sends is accepted and dropped.
 *
 * - An SQS batch (the event source mapping): {@link sqsEventSchema}. Each record's `body` is one of:
 *   - an S3 event notification ({@link s3EventNotificationSchema}: `mailroom smtp` wrote `smtp/<id>.eml`),
 *     or S3's `s3:TestEvent` ({@link s3TestEventSchema}) sent once when the notification is configured;
 *   - an SNS envelope ({@link snsEnvelopeSchema}, raw message delivery off) whose `Message` is one of those
 *     or an SES receipt notification ({@link sesReceivedNotificationSchema});
 *   - an SES notification directly (an SNS subscription with raw message delivery on).
 * - A receipt rule's Lambda action invoking the function directly: {@link sesLambdaEventSchema}.
 *
 * Sources: the S3 event message structure (docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html),
 * the SES receipt notification contents (docs.aws.amazon.com/ses/latest/dg/receiving-email-notifications-contents.html)
 * and the SES Lambda event (docs.aws.amazon.com/ses/latest/dg/receiving-email-action-lambda-event.html).
 */
import * as z from 'zod';
import { EventShapeError } from './processor-errors.ts';

/** One SQS message as Lambda hands it over. */
export const sqsRecordSchema = z.object({
  messageId: z.string().min(1),
  body: z.string(),
  eventSource: z.literal('aws:sqs').optional(),
  attributes: z.object({ ApproximateReceiveCount: z.string().optional() }).optional(),
});

/** The event of an SQS event source mapping. */
export const sqsEventSchema = z.object({ Records: z.array(sqsRecordSchema) });

/** One object event of an S3 event notification (event version 2.x). */
export const s3EventRecordSchema = z.object({
  eventSource: z.literal('aws:s3'),
  /** e.g. `ObjectCreated:Put`, `ObjectCreated:CompleteMultipartUpload`, `ObjectRemoved:Delete`. */
  eventName: z.string(),
  /** ISO 8601. */
  eventTime: z.string().optional(),
  s3: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      /** URL-encoded as in an HTML form: `%XX` escapes, and `+` for a space. */
      key: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
    }),
  }),
});

/** An S3 event notification: one or more object events. */
export const s3EventNotificationSchema = z.object({ Records: z.array(s3EventRecordSchema).min(1) });

/** What S3 sends once when a bucket's event notification is set up; carries no object. */
export const s3TestEventSchema = z.object({ Event: z.literal('s3:TestEvent') });

/** An SNS message as SNS delivers it to an SQS queue (raw message delivery off). */
export const snsEnvelopeSchema = z.object({
  /** `Notification`; `SubscriptionConfirmation` / `UnsubscribeConfirmation` carry no mail. */
  Type: z.string(),
  MessageId: z.string().optional(),
  TopicArn: z.string().optional(),
  /** The published message: here a JSON document (S3 event or SES notification). */
  Message: z.string(),
});

/** One SES verdict: `PASS`, `FAIL`, `GRAY` or `PROCESSING_FAILED`. */
const sesVerdictSchema = z.object({ status: z.string() });

/** The receipt rule action that produced the event. */
export const sesReceiptActionSchema = z.object({
  /** `S3`, `SNS`, `Lambda`… */
  type: z.string(),
  topicArn: z.string().optional(),
  /** S3 action: where SES wrote the message. */
  bucketName: z.string().min(1).optional(),
  objectKeyPrefix: z.string().optional(),
  objectKey: z.string().min(1).optional(),
  /** SNS action: how `content` is encoded. @default 'UTF8' */
  encoding: z.enum(['UTF8', 'BASE64']).optional(),
});

/** The `receipt` object: who the message was accepted for, the verdicts, and the action. */
export const sesReceiptSchema = z.object({
  /** The envelope recipients this receipt rule matched (RCPT TO; Bcc included). */
  recipients: z.array(z.string().min(1)).min(1),
  /** ISO 8601. */
  timestamp: z.string().optional(),
  spfVerdict: sesVerdictSchema.optional(),
  dkimVerdict: sesVerdictSchema.optional(),
  dmarcVerdict: sesVerdictSchema.optional(),
  dmarcPolicy: z.string().optional(),
  spamVerdict: sesVerdictSchema.optional(),
  virusVerdict: sesVerdictSchema.optional(),
  action: sesReceiptActionSchema,
});

/**
 * SES message ids are short alphanumeric strings (`d6iitobk75ur44p8kdnnp7g2n800`); the pattern keeps ids
 * used as S3 keys and DynamoDB keys free of separators and control characters.
 */
export const SES_MESSAGE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The `mail` object: the SMTP envelope sender, SES's message id and the common headers. */
export const sesMailSchema = z.object({
  /** ISO 8601. */
  timestamp: z.string().optional(),
  /** The envelope MAIL FROM address (`''` for the null sender). */
  source: z.string(),
  messageId: z.string().regex(SES_MESSAGE_ID_PATTERN, { message: 'not an SES message id' }),
  destination: z.array(z.string()).optional(),
  commonHeaders: z.object({ from: z.array(z.string()).optional() }).optional(),
});

/** An SES receipt notification (`notificationType: 'Received'`) from an S3 or SNS action. */
export const sesReceivedNotificationSchema = z.object({
  notificationType: z.literal('Received'),
  mail: sesMailSchema,
  receipt: sesReceiptSchema,
  /** SNS action only: the whole message (up to 150 KB), encoded as `receipt.action.encoding` says. */
  content: z.string().optional(),
});

/**
 * Any other SES notification (`AmazonSnsSubscriptionSucceeded`, and Bounce/Complaint/Delivery when a topic
 * is shared with sending): recognised so it can be acknowledged rather than retried.
 */
export const sesOtherNotificationSchema = z.object({
  notificationType: z.string().refine((t) => t !== 'Received', { message: 'a Received notification' }),
});

/** The event a receipt rule's Lambda action invokes the function with. */
export const sesLambdaEventSchema = z.object({
  Records: z
    .array(
      z.object({
        eventSource: z.literal('aws:ses'),
        ses: z.object({ mail: sesMailSchema, receipt: sesReceiptSchema }),
      }),
    )
    .min(1),
});

export type SqsEvent = z.infer<typeof sqsEventSchema>;
export type SqsRecord = z.infer<typeof sqsRecordSchema>;
export type S3EventRecord = z.infer<typeof s3EventRecordSchema>;
export type SesMailInfo = z.infer<typeof sesMailSchema>;
export type SesReceiptInfo = z.infer<typeof sesReceiptSchema>;
export type SesReceivedNotification = z.infer<typeof sesReceivedNotificationSchema>;
export type SesLambdaEvent = z.infer<typeof sesLambdaEventSchema>;

/** What the processing Lambda is invoked with: an SQS batch, or a receipt rule's Lambda action event. */
export type ProcessEvent = { sqs: SqsEvent } | { ses: SesLambdaEvent };

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Tells the two event kinds apart and validates the one it is.
 * @throws EventShapeError naming the first problems.
 */
export function parseProcessEvent(event: unknown): ProcessEvent {
  const first = (event as { Records?: Array<{ eventSource?: unknown }> } | null)?.Records?.[0];
  if (first?.eventSource === 'aws:ses') {
    const ses = sesLambdaEventSchema.safeParse(event);
    if (ses.success) return { ses: ses.data };
    throw new EventShapeError(`not a valid SES receipt event: ${describeIssues(ses.error)}`);
  }
  const sqs = sqsEventSchema.safeParse(event);
  if (sqs.success) return { sqs: sqs.data };
  throw new EventShapeError(`not an SQS event or an SES receipt event: ${describeIssues(sqs.error)}`);
}
