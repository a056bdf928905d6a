import type { Address, ParsedMessage } from '../message/types.ts';
import { isSendableAddress } from './sender-address.ts';

/**
 * Where a reply goes: the original's Reply-To addresses, else its From address (never the envelope
 * sender, which is often a bounce address or `<>`). Unusable addresses are left out, duplicates too
 * (compared case-insensitively). Empty when nothing usable is left.
 */
export function replyRecipients(message: ParsedMessage): Address[] {
  const replyTo = message.replyTo.filter((a) => isSendableAddress(a.address));
  const candidates = replyTo.length > 0 ? replyTo : message.from ? [message.from] : [];
  const seen = new Set<string>();
  const out: Address[] = [];
  for (const a of candidates) {
    const key = a.address.toLowerCase();
    if (!isSendableAddress(a.address) || seen.has(key)) continue;
    seen.add(key);
    out.push({ address: a.address, name: a.name.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim() });
    if (out.length >= 50) break;
  }
  return out;
}
