/**
 * Turns what arrives on the processing queue (or from a receipt rule's Lambda action) into work items: one
 * per stored message, saying where its bytes are and what the ingress already knew about it. Pure: no I/O.
 */
import type * as z from 'zod';
import { type AuthVerdicts, mapSesVerdicts } from '../auth/index.ts';
import type { Envelope } from '../kernel/index.ts';
import { MESSAGE_ID_PATTERN } from '../store/index.ts';
import { EventShapeError } from './processor-errors.ts';
import { type RetryMessage, retryMessageSchema } from './retry-queue.ts';
import {
  type S3EventRecord,
  type SesMailInfo,
  type SesReceiptInfo,
  s3EventNotificationSchema,
  s3TestEventSchema,
  sesOtherNotificationSchema,
  sesReceivedNotificationSchema,
  snsEnvelopeSchema,
} from './sqs-event-schemas.ts';

/** Where a raw message lives in S3. */
export interface ObjectLocation {
  bucket: string;
  key: string;
}

/** One message to process. */
export interface WorkItem {
  /** Mailroom's id: the id in `smtp/<id>.eml`, or SES's `mail.messageId`. */
  id: string;
  /** Which ingress stored it: `smtp` (envelope and verdicts in the object's metadata) or `ses` (receipt). */
  origin: 'smtp' | 'ses';
  /** Where the raw bytes are (or, with `content`, where they are to be kept). */
  object: ObjectLocation;
  /**
   * The whole message, when the event carries it (SES SNS action): written to `object` before processing
   * so that nothing accepted exists only in a queue.
   */
  content?: Buffer;
  /** The SMTP envelope, when the event says it (SES: `mail.source` and `receipt.recipients`). */
  envelope?: Envelope;
  /** Verdicts, when the event carries them (SES receipt). Never read from the message's headers. */
  auth?: AuthVerdicts;
  /** When the ingress accepted the message (ISO 8601), when the event says it. */
  receivedAt?: string;
  /** Size in bytes, when the event says it. */
  size?: number;
  /** A rescheduled message (`retry-queue.ts`): ISO 8601 time before which it is not run. */
  retryNotBefore?: string;
}

/** The work in one queue body: messages to process, and what was acknowledged without work (and why). */
export interface BodyWork {
  items: WorkItem[];
  ignored: string[];
}

export interface WorkItemOptions {
  /** The raw bucket: where SNS-action content is kept, and where SES objects without a location are. */
  rawBucket: string;
  /** Key prefix of `mailroom smtp` objects (`<prefix><id>.eml`). @default 'smtp/' */
  smtpPrefix?: string;
  /** Key prefix of the SES S3 action (`<prefix><messageId>`). @default 'ses/' */
  sesPrefix?: string;
}

/**
 * Decodes an S3 event notification key: S3 escapes keys as HTML forms do (`%XX`, and `+` for a space).
 * @throws EventShapeError for a malformed escape.
 */
export function decodeS3EventKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch (cause) {
    throw new EventShapeError(`S3 event key ${JSON.stringify(key)} is not URL-encoded`, { cause });
  }
}

/** A valid ISO 8601 instant, normalized; undefined for anything else. */
function isoTime(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * The work item of an SES receipt (an S3/SNS action notification, or a Lambda action event): envelope from
 * `mail.source` and `receipt.recipients` (Bcc recipients included; `mail.destination` also lists recipients
 * of other domains), verdicts from the receipt. The bytes: `content` when present (SNS action; kept at
 * `<sesPrefix><messageId>`), else where the S3 action wrote them, else `<sesPrefix><messageId>` in the raw
 * bucket (a Lambda action after an S3 action in the same rule).
 */
export function workItemFromSes(
  mail: SesMailInfo,
  receipt: SesReceiptInfo,
  content: string | undefined,
  options: WorkItemOptions,
): WorkItem {
  const id = mail.messageId;
  const sesKey = `${options.sesPrefix ?? 'ses/'}${id}`;
  const { action } = receipt;
  const item: WorkItem = {
    id,
    origin: 'ses',
    object: { bucket: options.rawBucket, key: sesKey },
    envelope: { mailFrom: mail.source.trim(), rcptTo: [...receipt.recipients] },
    auth: mapSesVerdicts(receipt, mail),
  };
  if (content !== undefined) {
    item.content = Buffer.from(content, action.encoding === 'BASE64' ? 'base64' : 'utf8');
    item.size = item.content.length;
  } else if (action.type === 'S3' && action.bucketName && action.objectKey) {
    item.object = { bucket: action.bucketName, key: action.objectKey };
  }
  const receivedAt = isoTime(receipt.timestamp) ?? isoTime(mail.timestamp);
  if (receivedAt) item.receivedAt = receivedAt;
  return item;
}

/**
 * The work item of one S3 object event: `ObjectCreated:*` of `<smtpPrefix><id>.eml`. Other events, and
 * the `.meta.json` sidecars `mailroom smtp` writes next to large envelopes, are ignored (a reason is given).
 * @throws EventShapeError for a created object that is not a message Mailroom wrote.
 */
export function workItemFromS3Event(
  record: S3EventRecord,
  options: WorkItemOptions,
): WorkItem | { ignored: string } {
  const bucket = record.s3.bucket.name;
  const key = decodeS3EventKey(record.s3.object.key);
  if (!record.eventName.startsWith('ObjectCreated:'))
    return { ignored: `${record.eventName} of s3://${bucket}/${key}` };
  const prefix = options.smtpPrefix ?? 'smtp/';
  if (key.startsWith(prefix)) {
    const name = key.slice(prefix.length);
    if (name.endsWith('.meta.json')) return { ignored: `metadata sidecar s3://${bucket}/${key}` };
    const id = name.endsWith('.eml') ? name.slice(0, -'.eml'.length) : '';
    if (MESSAGE_ID_PATTERN.test(id)) {
      const item: WorkItem = { id, origin: 'smtp', object: { bucket, key } };
      if (record.s3.object.size !== undefined) item.size = record.s3.object.size;
      const receivedAt = isoTime(record.eventTime);
      if (receivedAt) item.receivedAt = receivedAt;
      return item;
    }
  }
  throw new EventShapeError(
    `s3://${bucket}/${key} is not a message stored by mailroom smtp (expected ${prefix}<id>.eml); ` +
      'only that prefix and suffix should notify the processing queue',
  );
}

/** The work item of a rescheduled message: its message, to be run no earlier than `notBefore`. */
export function workItemFromRetry(retry: RetryMessage): WorkItem {
  const item: WorkItem = {
    id: retry.id,
    origin: retry.origin,
    object: { bucket: retry.bucket, key: retry.key },
    retryNotBefore: retry.notBefore,
  };
  if (retry.envelope)
    item.envelope = { mailFrom: retry.envelope.mailFrom, rcptTo: [...retry.envelope.rcptTo] };
  if (retry.receivedAt !== undefined) item.receivedAt = retry.receivedAt;
  return item;
}

/** The work in an already-parsed document (a queue body, or an SNS envelope's message). */
function workFromDocument(doc: unknown, options: WorkItemOptions, insideSns: boolean): BodyWork {
  const retry = insideSns ? null : retryMessageSchema.safeParse(doc);
  if (retry?.success) return { items: [workItemFromRetry(retry.data.mailroomRetry)], ignored: [] };
  const ses = sesReceivedNotificationSchema.safeParse(doc);
  if (ses.success) {
    const { mail, receipt, content } = ses.data;
    return { items: [workItemFromSes(mail, receipt, content, options)], ignored: [] };
  }
  const s3 = s3EventNotificationSchema.safeParse(doc);
  if (s3.success) {
    const work: BodyWork = { items: [], ignored: [] };
    for (const record of s3.data.Records) {
      const out = workItemFromS3Event(record, options);
      if ('ignored' in out) work.ignored.push(out.ignored);
      else work.items.push(out);
    }
    return work;
  }
  if (s3TestEventSchema.safeParse(doc).success) return { items: [], ignored: ['s3:TestEvent'] };
  const other = sesOtherNotificationSchema.safeParse(doc);
  if (other.success) {
    return { items: [], ignored: [`SES ${other.data.notificationType} notification (not received mail)`] };
  }
  if (!insideSns) {
    const sns = snsEnvelopeSchema.safeParse(doc);
    if (sns.success) {
      if (sns.data.Type !== 'Notification') return { items: [], ignored: [`SNS ${sns.data.Type} message`] };
      let inner: unknown;
      try {
        inner = JSON.parse(sns.data.Message);
      } catch (cause) {
        const which = sns.data.MessageId ? ` ${sns.data.MessageId}` : '';
        throw new EventShapeError(`SNS message${which} is not JSON`, { cause });
      }
      return workFromDocument(inner, options, true);
    }
  }
  // Name the closest shape's problems: a Received notification that failed validation is the likely case.
  const received =
    typeof doc === 'object' && doc !== null && (doc as { notificationType?: unknown }).notificationType;
  const why = received === 'Received' && !ses.success ? `: ${describeIssues(ses.error)}` : '';
  throw new EventShapeError(
    `${insideSns ? 'SNS message' : 'queue message'} is neither an S3 event notification, an SNS envelope ` +
      `nor an SES receipt notification${why}`,
  );
}

/**
 * The work in one SQS message body: an S3 event notification, an SES receipt notification, either inside
 * an SNS envelope or not, a message the processor rescheduled (`retry-queue.ts`), or an event to acknowledge without work (`s3:TestEvent`, SNS subscription
 * messages, SES notifications other than `Received`, S3 events other than object creation).
 * @throws EventShapeError for a body that is none of these.
 */
export function workItemsFromBody(body: string, options: WorkItemOptions): BodyWork {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (cause) {
    throw new EventShapeError('queue message body is not JSON', { cause });
  }
  return workFromDocument(doc, options, false);
}
