import type { Envelope } from '../actions/types.ts';
import type { RawStore } from '../store/types.ts';

/**
 * The SMTP envelope is kept durably beside the raw bytes, written *before* them, so that a message whose
 * "received" record was lost in a crash (raw bytes stored, `250` sent, record not yet written) can still be
 * routed by its real envelope on recovery, Bcc recipients included. The raw bytes stay exactly "trace
 * headers + received bytes": the envelope never goes into them.
 *
 * A raw store that implements `putEnvelope`/`getEnvelope` keeps it its own way (sidecar file, S3 object
 * metadata). Otherwise it is stored through `put` as a separate object `<id>.envelope` (JSON), which
 * {@link isEnvelopeObject} tells apart from message ids in `list()`.
 */
export const ENVELOPE_SUFFIX = '.envelope';

/** Whether a raw store id names an envelope object rather than a message. */
export function isEnvelopeObject(id: string): boolean {
  return id.endsWith(ENVELOPE_SUFFIX);
}

/** Durably saves the envelope of message `id`. */
export async function saveEnvelope(rawStore: RawStore, id: string, envelope: Envelope): Promise<void> {
  const clean: Envelope = { mailFrom: envelope.mailFrom, rcptTo: [...envelope.rcptTo] };
  if (envelope.remoteAddress !== undefined) clean.remoteAddress = envelope.remoteAddress;
  if (envelope.helo !== undefined) clean.helo = envelope.helo;
  if (rawStore.putEnvelope) {
    await rawStore.putEnvelope(id, clean);
    return;
  }
  await rawStore.put(`${id}${ENVELOPE_SUFFIX}`, Buffer.from(JSON.stringify(clean)));
}

function isEnvelope(v: unknown): v is Envelope {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return (
    typeof e.mailFrom === 'string' && Array.isArray(e.rcptTo) && e.rcptTo.every((r) => typeof r === 'string')
  );
}

/** The envelope saved for message `id`, or null when there is none (or it is unreadable). */
export async function loadEnvelope(rawStore: RawStore, id: string): Promise<Envelope | null> {
  try {
    if (rawStore.getEnvelope) return await rawStore.getEnvelope(id);
    const parsed: unknown = JSON.parse((await rawStore.get(`${id}${ENVELOPE_SUFFIX}`)).toString('utf8'));
    return isEnvelope(parsed) ? parsed : null;
  } catch {
    return null;
  }
}
