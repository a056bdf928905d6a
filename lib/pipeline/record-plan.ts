import type { DeliveryRecord } from '../store/index.ts';
import { announceDelivery, deliveryRecord, describeDelivery, putDelivery } from './deliver.ts';
import type { PlannedDelivery } from './plan-deliveries.ts';
import { type ProcessingPorts, trace } from './ports.ts';
import { recordOnePlanned } from './replay-delivery.ts';

/** A delivery to run: its record (pending) and what the plan says to do. */
export interface DeliveryWork {
  record: DeliveryRecord;
  planned: PlannedDelivery;
}

/**
 * Records every planned delivery; those already delivered or dropped are kept as they are (idempotent).
 * With a store that can insert a delivery unless it exists (`insertDelivery`), a message seen for the
 * first time records its plan in one write per delivery, all at once, and reads nothing first.
 */
export async function recordPlan(
  ports: ProcessingPorts,
  id: string,
  plan: PlannedDelivery[],
  only?: string,
): Promise<{ work: DeliveryWork[]; finals: DeliveryRecord[] }> {
  if (only !== undefined) return recordOnePlanned(ports, id, plan, only);
  const inserted = await insertNew(ports, id, plan);
  const work: DeliveryWork[] = [];
  const finals: DeliveryRecord[] = [];
  for (const [i, planned] of plan.entries()) {
    const tried = inserted[i];
    let d: DeliveryRecord;
    if (tried && tried.existing === null) {
      d = tried.record;
      announceDelivery(ports, d);
    } else {
      const existing = tried ? tried.existing : await ports.store.getDelivery(planned.key);
      const kept = await keptAsItIs(ports, id, existing);
      if (kept) {
        finals.push(kept);
        continue;
      }
      d = deliveryRecord(id, planned, existing);
      await putDelivery(ports, d);
    }
    finals.push(d);
    if (d.status === 'pending') work.push({ record: d, planned });
    else if (d.status === 'rejected') await trace(ports, id, 'rejected', `${d.recipient}: ${d.error}`);
  }
  return { work, finals };
}

/**
 * Inserts the plan's deliveries that the store does not hold yet (all in one go); per planned delivery,
 * its new record and the one the store held instead (null when the new one was recorded). Empty when the
 * store cannot insert that way.
 */
async function insertNew(
  ports: ProcessingPorts,
  id: string,
  plan: PlannedDelivery[],
): Promise<Array<{ record: DeliveryRecord; existing: DeliveryRecord | null }>> {
  const { store } = ports;
  if (!store.insertDelivery) return [];
  const updatedAt = ports.now().toISOString();
  const records = plan.map((planned) => ({ ...deliveryRecord(id, planned, null), updatedAt }));
  const existing = await Promise.all(records.map((d) => store.insertDelivery?.(d) ?? null));
  return records.map((record, i) => ({ record, existing: existing[i] ?? null }));
}

/** The stored delivery when this run leaves it as it is: done already, or pending until its next attempt. */
async function keptAsItIs(
  ports: ProcessingPorts,
  id: string,
  existing: DeliveryRecord | null,
): Promise<DeliveryRecord | null> {
  if (existing && (existing.status === 'delivered' || existing.status === 'dropped')) {
    await trace(ports, id, 'skipped', `${describeDelivery(existing)}: already ${existing.status}`);
    return existing;
  }
  // waits for its next attempt: a later run tries it
  if (existing?.status === 'pending' && ports.retries && !(await ports.retries.due(existing)))
    return existing;
  return null;
}
