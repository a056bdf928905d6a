import { type Deliveries, type DeliveryRecord, deliveryRecord, storedDelivery } from '../store/index.ts';
import { keys } from './dynamo-keys.ts';
import type { DynamoStoreContext } from './dynamo-store-context.ts';
import type { DeliveryItem } from './dynamo-store-items.ts';
import { itemKey } from './dynamo-table.ts';
import { TTL_ATTRIBUTE } from './dynamo-table-schema.ts';

/** Delivery keys remembered per store (a long-lived Lambda container processes many messages). */
const MAX_REMEMBERED_DELIVERY_KEYS = 10_000;

/**
 * The deliveries of the DynamoDB store: each in its message's partition (`DELIVERY#<key>`, so the
 * message's summary reads them with its record), found by idempotency key through a key item
 * (`DLVKEY#<key>`) that names the message. Both reads strongly consistent.
 */
export class DynamoDeliveries implements Deliveries {
  readonly #context: DynamoStoreContext;
  /** Delivery keys whose key item this store wrote (key → message id), to skip rewriting it. */
  readonly #keysWritten = new Map<string, string>();

  constructor(context: DynamoStoreContext) {
    this.#context = context;
  }

  async getDelivery(deliveryKey: string): Promise<DeliveryRecord | null> {
    const pointer = await this.#context.table.get<{ messageId: string }>(
      `read delivery key ${deliveryKey}`,
      itemKey(keys.deliveryKey(deliveryKey), keys.deliveryKeyRecord),
    );
    if (!pointer) return null;
    const item = await this.#context.table.get<DeliveryItem>(
      `read delivery ${deliveryKey}`,
      itemKey(keys.message(pointer.messageId), keys.delivery(deliveryKey)),
    );
    return item ? deliveryRecord(item) : null;
  }

  /** Upserts in place, so a delivery keeps its position (`order` of its first write) in the summary. */
  async putDelivery(d: DeliveryRecord): Promise<void> {
    // The key item first: a delivery is only found through it, so one without it can never be half-seen.
    if (this.#keysWritten.get(d.key) !== d.messageId) await this.#pointKeyAt(d);
    await this.#context.table.update(
      `record delivery ${d.key}`,
      itemKey(keys.message(d.messageId), keys.delivery(d.key)),
      {
        set: { type: 'delivery', ...storedDelivery(d) },
        setIfMissing: { order: this.#context.order.next(), [TTL_ATTRIBUTE]: this.#context.expiresAt() },
      },
    );
  }

  /** Every delivery of one message, in creation order. */
  async listDeliveries(messageId: string): Promise<DeliveryRecord[]> {
    return (await this.#context.deliveryItems(messageId)).map(deliveryRecord);
  }

  /** Writes the key item naming `d`'s message; a delivery the key named in another message goes. */
  async #pointKeyAt(d: DeliveryRecord): Promise<void> {
    const before = await this.#context.table.update(
      `record delivery key ${d.key}`,
      itemKey(keys.deliveryKey(d.key), keys.deliveryKeyRecord),
      {
        set: { type: 'deliveryKey', key: d.key, messageId: d.messageId },
        setIfMissing: { [TTL_ATTRIBUTE]: this.#context.expiresAt() },
        returnOld: true,
      },
    );
    const previous = before ? before.messageId : undefined;
    if (typeof previous === 'string' && previous !== d.messageId) {
      // the key now belongs to another message: its old record must not linger in that summary
      await this.#context.table.delete(
        `drop moved delivery ${d.key}`,
        itemKey(keys.message(previous), keys.delivery(d.key)),
      );
    }
    if (this.#keysWritten.size >= MAX_REMEMBERED_DELIVERY_KEYS) this.#keysWritten.clear();
    this.#keysWritten.set(d.key, d.messageId);
  }
}
