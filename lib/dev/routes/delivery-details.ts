import { describeDelivery } from '../../pipeline/index.ts';
import type { DeliveryRecord, MessageDetail, MessageStore, TraceEntry } from '../../store/index.ts';

/** A delivery of the detail (with its key and updatedAt) and what the dev page adds: its last attempt's times. */
export type DetailDelivery = MessageDetail['deliveries'][number] & {
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
};

const TOOK = / \[(\d{1,9}) ms\]$/;
const OUTCOME_STEPS = new Set(['delivered', 'dropped', 'delivery failed']);

/** When the delivery's last attempt ended, and how long it took, from the trace (when it says). */
function lastAttempt(record: DeliveryRecord, trace: TraceEntry[]) {
  const described = describeDelivery(record);
  for (let i = trace.length - 1; i >= 0; i--) {
    const entry = trace[i]!;
    if (!OUTCOME_STEPS.has(entry.step) || !entry.detail.includes(described)) continue;
    const took = TOOK.exec(entry.detail);
    if (!took) return { finishedAt: entry.at };
    const durationMs = Number(took[1]);
    const startedAt = new Date(Date.parse(entry.at) - durationMs).toISOString();
    return { startedAt, finishedAt: entry.at, durationMs };
  }
  return {};
}

/** The detail's deliveries (key and updatedAt from the store) with, where the trace has them, attempt times. */
export async function detailDeliveries(
  store: MessageStore,
  message: MessageDetail,
): Promise<DetailDelivery[]> {
  const out: DetailDelivery[] = [];
  for (const d of message.deliveries) {
    const record = d.key === undefined ? null : await store.getDelivery(d.key);
    out.push(record ? { ...d, ...lastAttempt(record, message.trace) } : { ...d });
  }
  return out;
}
