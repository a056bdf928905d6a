import type { Envelope } from '../kernel/index.ts';
import { errorText } from '../kernel/index.ts';
import { parseMessage } from '../message/index.ts';
import type { RawStore } from '../store/index.ts';
import { type ProcessingPorts, trace } from './ports.ts';
import { uniqueRecipients } from './recipients.ts';

/** For a raw message whose envelope was lost too: recipients from the headers, in our domains. */
async function envelopeFromHeaders(ports: ProcessingPorts, raw: Buffer): Promise<Envelope> {
  const parsed = await parseMessage(raw, ports.config.parse);
  const domains = new Set(ports.config.domains);
  const candidates = [
    ...parsed.headers
      .filter((h) => h.key === 'delivered-to' || h.key === 'x-original-to')
      .map((h) => h.value.trim()),
    ...parsed.to.map((a) => a.address),
    ...parsed.cc.map((a) => a.address),
  ];
  const rcptTo = uniqueRecipients(
    candidates.filter((a) => domains.has(a.slice(a.lastIndexOf('@') + 1).toLowerCase())),
  );
  const returnPath = parsed.headers.find((h) => h.key === 'return-path')?.value ?? '';
  return { mailFrom: returnPath.replace(/^\s*<?|>?\s*$/g, ''), rcptTo };
}

/**
 * Records the raw messages that have no record (a crash between storing and recording), with the envelope
 * stored beside them or, when that was lost too, one read from the headers. Skips ids `busy` says are
 * being accepted right now. Returns the ids recorded.
 */
export async function recordOrphans(
  ports: ProcessingPorts,
  rawStore: RawStore,
  busy: (id: string) => boolean,
): Promise<string[]> {
  const { store, logger } = ports;
  const orphans: string[] = [];
  for (const id of await rawStore.list()) {
    if (busy(id) || (await store.hasMessage(id))) continue;
    try {
      const raw = await rawStore.get(id);
      let envelope = await rawStore.getEnvelope(id).catch(() => null);
      let how = 'envelope from its durable record';
      if (!envelope) {
        envelope = await envelopeFromHeaders(ports, raw);
        how = 'envelope lost: recipients taken from To/Cc/Delivered-To headers in our domains';
      }
      await store.recordReceived({ id, receivedAt: ports.now().toISOString(), envelope, size: raw.length });
      await trace(ports, id, 'recovered', `stored message had no record; ${how}`);
      orphans.push(id);
    } catch (err) {
      logger.error('could not recover stored message', { id, error: errorText(err) });
    }
  }
  return orphans;
}
