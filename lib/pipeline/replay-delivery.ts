import type { DeliveryRecord } from '../store/index.ts';
import { deliveryRecord, putDelivery } from './deliver.ts';
import type { PlannedDelivery } from './plan-deliveries.ts';
import { type ProcessingPorts, trace } from './ports.ts';

/**
 * The plan of a one-delivery replay (`MessageInput.only`): the delivery with key `only` is recorded
 * pending again and run, whatever its status (a replay is an explicit request); every other delivery
 * of the message stays as stored, and one the current config plans but the message never had is not
 * started. When the current config no longer plans `only`, nothing runs and the trace says so.
 */
export async function recordOnePlanned(
  ports: ProcessingPorts,
  id: string,
  plan: PlannedDelivery[],
  only: string,
): Promise<{ work: Array<{ record: DeliveryRecord; planned: PlannedDelivery }>; finals: DeliveryRecord[] }> {
  const work: Array<{ record: DeliveryRecord; planned: PlannedDelivery }> = [];
  const finals: DeliveryRecord[] = [];
  for (const planned of plan) {
    const existing = await ports.store.getDelivery(planned.key);
    if (planned.key !== only) {
      if (existing) finals.push(existing);
      continue;
    }
    const d = deliveryRecord(id, planned, existing);
    await putDelivery(ports, d);
    finals.push(d);
    if (d.status === 'pending') work.push({ record: d, planned });
  }
  if (!plan.some((p) => p.key === only)) {
    const kept = await ports.store.getDelivery(only);
    if (kept) finals.push(kept);
    await trace(ports, id, 'replay', `delivery ${only} is not planned by the current config: nothing run`);
  }
  return { work, finals };
}
