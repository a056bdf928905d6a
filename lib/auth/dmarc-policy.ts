import type { AuthVerdicts } from './verdicts.ts';

/**
 * Whether the sender's domain asks for this message to be rejected: DMARC failed and the policy that
 * applies is `p=reject` (or `sp=reject` for a subdomain) covering all its mail (`pct` absent or 100; with a
 * smaller pct the domain asks for sampling, and we never reject on a coin toss). For an optional
 * `550 5.7.1` at the end of DATA. A temperror/permerror or a missing policy never rejects.
 */
export function dmarcRejects(verdicts: AuthVerdicts): boolean {
  const { dmarc } = verdicts;
  return dmarc.result === 'fail' && dmarc.policy === 'reject' && (dmarc.pct ?? 100) >= 100;
}
