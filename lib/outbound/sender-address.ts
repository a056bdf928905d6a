import addressparser from 'nodemailer/lib/addressparser';
import type { Address } from '../message/index.ts';
import { OutboundConfigError } from './errors.ts';

const MAILBOX = /^[^\s@<>()",;:\\[\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;

/** Whether `address` is a plain `local@domain` mailbox fit for an SMTP envelope and a header. */
export function isSendableAddress(address: string): boolean {
  return address.length <= 254 && MAILBOX.test(address) && !address.includes('..');
}

/**
 * Reads the configured From of outgoing mail: `support@example.com` or `Support <support@example.com>`.
 * @throws OutboundConfigError unless it is exactly one plain mailbox.
 */
export function parseSenderAddress(value: string | Address): Address {
  if (typeof value !== 'string') {
    if (!isSendableAddress(value.address)) {
      throw new OutboundConfigError(`reply From address ${JSON.stringify(value.address)} is not a mailbox`);
    }
    return { address: value.address, name: value.name ?? '' };
  }
  const parsed = addressparser(value.replace(/[\r\n]+/g, ' '));
  const [first] = parsed;
  const address = first?.address ?? '';
  if (parsed.length !== 1 || !first || first.group !== undefined || !isSendableAddress(address)) {
    throw new OutboundConfigError(
      `reply From address ${JSON.stringify(value)} must be one mailbox: "name@example.com" or "Name <name@example.com>"`,
    );
  }
  return { address, name: first.name ?? '' };
}

/** The domain of a mailbox, lower-cased. */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}
