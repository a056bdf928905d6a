import type { S3Client } from '@aws-sdk/client-s3';
import type { Envelope } from '../kernel/index.ts';
import { MESSAGE_ID_PATTERN } from '../store/message-id.ts';
import type { RawStore } from '../store/types.ts';
import { MessageProcessingError } from './processor-errors.ts';
import { readS3Object } from './s3-objects.ts';
import { S3RawStore } from './s3-raw-store.ts';
import type { ObjectLocation } from './work-items.ts';

export interface ProcessingRawStoreOptions {
  client: S3Client;
  /** The raw bucket. */
  bucket: string;
  /** Key prefix of `mailroom smtp` objects (`<prefix><id>.eml`). @default 'smtp/' */
  smtpPrefix?: string;
  /** Key prefix of the SES S3 action (`<prefix><messageId>`). @default 'ses/' */
  sesPrefix?: string;
  /** Largest object read. */
  maxMessageBytes: number;
}

/**
 * The {@link RawStore} the pipeline reads from inside the processing Lambda. The processor has already read
 * (or been given) each message's bytes when it hands the id to the pipeline, and holds them here while the
 * pipeline runs, so nothing is read from S3 twice. Ids it does not hold are read from where the ingresses
 * put them: Mailroom ids where `mailroom smtp` stores them (its {@link S3RawStore} layout,
 * `<smtpPrefix><id>.eml`), SES message ids from `<sesPrefix><id>`.
 *
 * It stores nothing: messages reach S3 through the ingresses (`mailroom smtp`, SES), never through `put`.
 */
export class ProcessingRawStore implements RawStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  /** The `mailroom smtp` messages, in the layout it wrote them. */
  readonly #smtp: S3RawStore;
  readonly #sesPrefix: string;
  readonly #maxMessageBytes: number;
  readonly #held = new Map<
    string,
    { bytes: Buffer; location: ObjectLocation | undefined; holders: number }
  >();

  constructor(options: ProcessingRawStoreOptions) {
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#smtp = new S3RawStore({
      client: options.client,
      bucket: options.bucket,
      prefix: options.smtpPrefix ?? 'smtp/',
    });
    this.#sesPrefix = options.sesPrefix ?? 'ses/';
    this.#maxMessageBytes = options.maxMessageBytes;
  }

  /**
   * Keeps `bytes` as the raw message `id` (read from `location`) until as many {@link release} calls as
   * `hold` calls.
   */
  hold(id: string, bytes: Buffer, location?: ObjectLocation): void {
    const entry = this.#held.get(id);
    if (entry) entry.holders += 1;
    else this.#held.set(id, { bytes, location, holders: 1 });
  }

  release(id: string): void {
    const entry = this.#held.get(id);
    if (!entry) return;
    entry.holders -= 1;
    if (entry.holders <= 0) this.#held.delete(id);
  }

  /** How many messages are held now. */
  get heldCount(): number {
    return this.#held.size;
  }

  /** Where message `id` is: where a held message was read from, else where the ingresses put messages. */
  locate(id: string): ObjectLocation {
    const held = this.#held.get(id)?.location;
    if (held) return held;
    const key = MESSAGE_ID_PATTERN.test(id) ? this.#smtp.keyFor(id) : `${this.#sesPrefix}${id}`;
    return { bucket: this.#bucket, key };
  }

  put(): Promise<{ size: number }> {
    return Promise.reject(
      new MessageProcessingError('the processor does not store messages: the ingresses write them to S3'),
    );
  }

  async get(id: string): Promise<Buffer> {
    const held = this.#held.get(id);
    if (held) return held.bytes;
    return (await readS3Object(this.#client, this.locate(id), this.#maxMessageBytes)).data;
  }

  /** The envelope `mailroom smtp` stored with the message; null for SES messages (it is in the receipt). */
  async getEnvelope(id: string): Promise<Envelope | null> {
    return MESSAGE_ID_PATTERN.test(id) ? this.#smtp.getEnvelope(id) : null;
  }

  /** Ids of the `mailroom smtp` messages (SES messages are recorded from their receipt notifications). */
  list(): Promise<string[]> {
    return this.#smtp.list();
  }
}
