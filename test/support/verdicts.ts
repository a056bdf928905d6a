import { type AuthVerdicts, uncheckedVerdicts } from '../../lib/auth/verdicts.ts';

/** Verdicts of a message whose From domain passed DMARC (aligned DKIM): its Reply-To may be answered. */
export function dmarcPass(domain: string): AuthVerdicts {
  const base = uncheckedVerdicts('test');
  return {
    ...base,
    dkim: [{ result: 'pass', domain, selector: 's1', aligned: true }],
    dmarc: { result: 'pass', domain, policy: 'reject', alignment: { spf: false, dkim: true } },
  };
}
