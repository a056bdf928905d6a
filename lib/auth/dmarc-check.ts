import type { ARCResult, DKIMResult, DMARCResult, DNSResolver } from 'mailauth';
import { errorText } from '../kernel/index.ts';
import type { VerdictCache } from './verdict-cache.ts';
import { type DmarcVerdict, type SpfVerdict, toAuthResult } from './verdicts.ts';

type MailauthDmarc = typeof import('mailauth').dmarc;

/** What {@link checkDmarc} needs: the message's From: addresses and the other methods' results. */
export interface DmarcInput {
  dmarc: MailauthDmarc;
  /** The From: addresses mailauth read. */
  headerFrom: string[];
  spf: SpfVerdict;
  dkim: DKIMResult[];
  arcResult: ARCResult | null;
  resolver: DNSResolver;
  /** DMARC verdicts of this resolver's DNS to reuse and to keep. */
  cache?: VerdictCache<DmarcVerdict> | undefined;
}

const POLICIES = new Set(['none', 'quarantine', 'reject']);

/**
 * The DMARC verdict (RFC 7489) with mailauth: `permerror` without exactly one From: address, `temperror`
 * when mailauth throws (DNS trouble, a bug on hostile input). With a cache, a verdict for the same question
 * (everything mailauth's result depends on besides DNS: the From: domain, the passing SPF domain, the passing
 * DKIM domains and whether their keys were undersized, ARC's result) is reused.
 */
export async function checkDmarc(input: DmarcInput): Promise<DmarcVerdict> {
  const { headerFrom } = input;
  if (headerFrom.length !== 1) {
    return {
      result: 'permerror',
      domain: null,
      policy: null,
      alignment: { spf: null, dkim: null },
      comment: `${headerFrom.length} From: addresses, DMARC needs exactly one`,
    };
  }
  const from = headerFrom[0]!;
  const fromDomain = domainOf(from);
  const spfDomains = input.spf.result === 'pass' && input.spf.domain ? [input.spf.domain] : [];
  const dkimDomains = input.dkim
    .filter((r) => r.status?.result === 'pass' && r.signingDomain)
    .map((r) => ({
      id: r.id,
      domain: r.signingDomain,
      aligned: Boolean(r.status.aligned),
      underSized: r.status.underSized,
    }));
  const arcResult = input.arcResult;
  // mailauth reads the domain after the first '@'; ours is after the last: both are part of the question.
  const question = [
    from.slice(from.indexOf('@') + 1),
    fromDomain,
    spfDomains.join(' '),
    dkimDomains.map((d) => `${d.domain}/${d.underSized ?? ''}`).join(' '),
    arcResult?.status?.result ?? '',
  ].join('\n');
  const cached = input.cache?.get(question);
  if (cached) return cached;
  let verdict: DmarcVerdict;
  try {
    const result = await input.dmarc({
      headerFrom,
      spfDomains,
      dkimDomains,
      ...(arcResult ? { arcResult } : {}),
      resolver: input.resolver,
    });
    verdict = toDmarcVerdict(result, fromDomain);
  } catch (err) {
    verdict = {
      result: 'temperror',
      domain: fromDomain || null,
      policy: null,
      alignment: { spf: null, dkim: null },
      comment: errorText(err),
    };
  }
  input.cache?.set(question, verdict);
  return verdict;
}

function toDmarcVerdict(d: DMARCResult | false, fromDomain: string): DmarcVerdict {
  if (!d) {
    return {
      result: 'permerror',
      domain: fromDomain || null,
      policy: null,
      alignment: { spf: null, dkim: null },
    };
  }
  const verdict: DmarcVerdict = {
    result: toAuthResult(d.status?.result),
    domain: fromDomain || null,
    policy: null,
    alignment: { spf: null, dkim: null },
  };
  if (d.rr) {
    const policy = String(d.policy ?? '')
      .trim()
      .toLowerCase();
    // RFC 7489 §6.6.3: an unknown p= is read as none.
    verdict.policy = (POLICIES.has(policy) ? policy : 'none') as DmarcVerdict['policy'];
    if (typeof d.pct === 'number' && d.pct >= 0 && d.pct < 100) verdict.pct = d.pct;
    verdict.alignment = { spf: Boolean(d.alignment?.spf?.result), dkim: Boolean(d.alignment?.dkim?.result) };
    verdict.record = d.rr;
  }
  const comment = d.status?.comment || d.error;
  if (comment) verdict.comment = comment;
  return verdict;
}

function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return (at >= 0 ? address.slice(at + 1) : address).trim().toLowerCase();
}
