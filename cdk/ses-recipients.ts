import type { MailroomConfig } from '../lib/config/types.ts';
import type { RecipientPattern } from '../lib/routing/types.ts';

/** A plain `local@domain` pattern: no `*` wildcard, no `{name}` capture, not a RegExp or a whole domain. */
function exactAddress(pattern: RecipientPattern): string | null {
  if (typeof pattern !== 'string' || /[*{}]/.test(pattern)) return null;
  const at = pattern.lastIndexOf('@');
  if (at <= 0 || at === pattern.length - 1) return null;
  return pattern.toLowerCase();
}

/**
 * The recipients an SES receipt rule should accept for a Mailroom config: its exact addresses when every
 * route matches exact addresses only (SES then stores nothing that routing would refuse), else its domains.
 *
 * SES matches a rule's address with any label too (`support@` also matches `support+tag@`, per the SES
 * Developer Guide, "Creating receipt rules"), as Mailroom's exact routes do. A rule takes at most 100
 * recipients; beyond that the domains are used.
 */
export function sesRecipientsFor(config: Pick<MailroomConfig, 'domains' | 'routes'>): string[] {
  const domains = config.domains.map((d) => d.toLowerCase());
  const addresses = new Set<string>();
  for (const route of config.routes) {
    const patterns = Array.isArray(route.match) ? route.match : [route.match];
    for (const pattern of patterns) {
      const address = exactAddress(pattern);
      if (!address) return domains;
      addresses.add(address);
    }
  }
  return addresses.size > 0 && addresses.size <= 100 ? [...addresses] : domains;
}
