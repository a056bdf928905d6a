import { createHash } from 'node:crypto';
import type { MailroomConfig } from '../../config/index.ts';
import { canonicalParams, describeDelivery } from '../../pipeline/index.ts';
import type { DeliveryRecord, MessageDetail, MessageStore, TraceEntry } from '../../store/index.ts';

type SummaryDelivery = MessageDetail['deliveries'][number];

/** A delivery of the detail with what the dev page adds: its key, when it changed, its last attempt's times. */
export type DetailDelivery = SummaryDelivery & {
  key?: string;
  updatedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
};

/**
 * The keys a summary delivery can have (see `planDeliveries`): exact for mailbox, reject and unrouted;
 * for the others one per action of each configured route of that name (the key holds the route's index).
 */
function candidateKeys(config: MailroomConfig, id: string, d: SummaryDelivery): string[] {
  const lower = d.recipient.toLowerCase();
  if (d.action === 'mailbox' && d.mailbox !== undefined) return [`${id}:mailbox:${d.mailbox}`];
  if (d.action === 'reject' || d.action === 'none') return [`${id}:${d.action}:${lower}`];
  const hash = createHash('sha256').update(canonicalParams(d.params)).digest('hex').slice(0, 16);
  const keys: string[] = [];
  config.routes.forEach((route, index) => {
    if ((route.name?.trim() ? route.name : `route-${index}`) !== d.route) return;
    const count = Array.isArray(route.action) ? route.action.length : 1;
    for (let a = 0; a < count; a++) keys.push(`${id}:${d.action}:r${index}.a${a}:${hash}`);
  });
  return keys;
}

/** The stored record of a summary delivery, when its key can be found. */
async function recordOf(
  store: MessageStore,
  config: MailroomConfig,
  id: string,
  d: SummaryDelivery,
): Promise<DeliveryRecord | null> {
  for (const key of candidateKeys(config, id, d)) {
    const record = await store.getDelivery(key);
    if (record && record.messageId === id && record.route === d.route && record.action === d.action) {
      return record;
    }
  }
  return null;
}

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

/** The detail's deliveries with their keys, `updatedAt` and, where the trace has them, attempt times. */
export async function detailDeliveries(
  store: MessageStore,
  config: MailroomConfig,
  message: MessageDetail,
): Promise<DetailDelivery[]> {
  const out: DetailDelivery[] = [];
  for (const d of message.deliveries) {
    const record = await recordOf(store, config, message.id, d);
    out.push(
      record
        ? { ...d, key: record.key, updatedAt: record.updatedAt, ...lastAttempt(record, message.trace) }
        : { ...d },
    );
  }
  return out;
}
