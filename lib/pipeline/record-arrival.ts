import type { AuthVerdicts } from '../auth/index.ts';
import type { Envelope } from '../kernel/index.ts';
import { type ProcessingPorts, trace } from './ports.ts';

/** A message an ingress has made durable, to record as received. */
export interface Arrival {
  id: string;
  envelope: Envelope;
  size: number;
  receivedAt: string;
  /** Verdicts the ingress computed: stored, and not computed again. */
  auth?: AuthVerdicts | null;
  /** Said after the `received` trace entry: which ingress, where the bytes are. */
  via?: string;
}

/**
 * Records the message as received: the record, the `received` trace entry, the ingress's verdicts, and the
 * `message.received` event. With `sequential` the record is written before the rest (a store whose writes
 * run concurrently, DynamoDB, refuses verdicts for a record it does not hold yet); without it a store
 * with `recordArrival` (SQLite) writes all three as one write that need not reach the disk by itself (the
 * raw store holds the message durably: recovery records it again after a crash), and any other store gets
 * every write in one event-loop turn.
 */
export async function recordArrival(
  ports: ProcessingPorts,
  arrival: Arrival,
  options: { sequential?: boolean } = {},
): Promise<void> {
  const { id, envelope, size, receivedAt, auth } = arrival;
  const summary = { mailFrom: envelope.mailFrom, rcptTo: [...envelope.rcptTo] };
  const detail =
    `${size} bytes from <${summary.mailFrom}> for ${summary.rcptTo.join(', ')}` +
    (arrival.via ? ` (${arrival.via})` : '');
  const record = () => ports.store.recordReceived({ id, receivedAt, envelope, size });
  const rest = () => [
    trace(ports, id, 'received', detail),
    ...(auth ? [ports.store.saveAuth(id, auth)] : []),
  ];
  if (ports.store.recordArrival && !options.sequential) {
    await ports.store.recordArrival({ id, receivedAt, envelope, size, trace: detail, auth: auth ?? null });
  } else if (options.sequential) {
    await record();
    await Promise.all(rest());
  } else {
    await Promise.all([record(), ...rest()]);
  }
  ports.emit({ type: 'message.received', id, at: receivedAt, envelope: summary, size });
}
