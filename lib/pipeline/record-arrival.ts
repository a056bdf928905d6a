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
 * run concurrently, DynamoDB, refuses verdicts for a record it does not hold yet); without it every write
 * is issued in one event-loop turn, so a batching store (SQLite) commits them in one transaction.
 */
export async function recordArrival(
  ports: ProcessingPorts,
  arrival: Arrival,
  options: { sequential?: boolean } = {},
): Promise<void> {
  const { id, envelope, size, receivedAt, auth } = arrival;
  const summary = { mailFrom: envelope.mailFrom, rcptTo: [...envelope.rcptTo] };
  const record = () => ports.store.recordReceived({ id, receivedAt, envelope, size });
  const rest = () => [
    trace(
      ports,
      id,
      'received',
      `${size} bytes from <${summary.mailFrom}> for ${summary.rcptTo.join(', ')}` +
        (arrival.via ? ` (${arrival.via})` : ''),
    ),
    ...(auth ? [ports.store.saveAuth(id, auth)] : []),
  ];
  if (options.sequential) {
    await record();
    await Promise.all(rest());
  } else {
    await Promise.all([record(), ...rest()]);
  }
  ports.emit({ type: 'message.received', id, at: receivedAt, envelope: summary, size });
}
