import { MESSAGE_ID_PATTERN, type MessageDetail } from '../store/index.ts';
import type { WorkItem } from './work-items.ts';

/** The raw bucket and the ingresses' key prefixes (the processor's `MAILROOM_*` settings). */
export interface RawPrefixes {
  rawBucket: string;
  /** @default 'smtp/' */
  smtpPrefix?: string;
  /** @default 'ses/' */
  sesPrefix?: string;
}

/**
 * Where the raw object of a stored message is: the `received` trace entry names it
 * (`… (Amazon SES, s3://bucket/key)`); for a record without one, the ingresses' default keys.
 */
export function storedObject(
  message: MessageDetail,
  options: RawPrefixes,
): Pick<WorkItem, 'origin' | 'object'> {
  const received = message.trace.find((t) => t.step === 'received')?.detail ?? '';
  const found = /\((Amazon SES|mailroom smtp), s3:\/\/([^/\s]+)\/(.+)\)$/.exec(received);
  if (found) {
    return {
      origin: found[1] === 'Amazon SES' ? 'ses' : 'smtp',
      object: { bucket: found[2]!, key: found[3]! },
    };
  }
  const { id } = message;
  return MESSAGE_ID_PATTERN.test(id)
    ? {
        origin: 'smtp',
        object: { bucket: options.rawBucket, key: `${options.smtpPrefix ?? 'smtp/'}${id}.eml` },
      }
    : { origin: 'ses', object: { bucket: options.rawBucket, key: `${options.sesPrefix ?? 'ses/'}${id}` } };
}
