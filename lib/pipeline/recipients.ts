import type { Envelope } from '../kernel/index.ts';

/** Envelope recipients without duplicates (compared case-insensitively), in order. */
export function uniqueRecipients(rcptTo: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const r of rcptTo) {
    const k = r.toLowerCase();
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r);
  }
  return out;
}

/** The envelope fields worth keeping (no stray properties from an ingress). */
export function cleanEnvelope(envelope: Envelope): Envelope {
  const clean: Envelope = { mailFrom: envelope.mailFrom, rcptTo: [...envelope.rcptTo] };
  if (envelope.remoteAddress !== undefined) clean.remoteAddress = envelope.remoteAddress;
  if (envelope.helo !== undefined) clean.helo = envelope.helo;
  return clean;
}
