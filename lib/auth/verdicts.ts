/**
 * Authentication verdicts: one plain-JSON shape for every ingress (our own SMTP server, the dev HTTP API,
 * Amazon SES). Stored with the message, shown by the API and `mailroom parse --auth`, read by route rules.
 * Nothing here is ever taken from the message's own headers: verdicts come only from our computation
 * ({@link authenticateMessage}) or from the SES receipt ({@link mapSesVerdicts}).
 */

/**
 * An RFC 8601 §2.7 result word. Which words a method uses:
 * - SPF (RFC 7208 §2.6): pass, fail, softfail, neutral, none, temperror, permerror
 * - DKIM (RFC 8601 §2.7.1): pass, fail, neutral, none, policy, temperror, permerror
 * - DMARC (RFC 7489 §11.2): pass, fail, none, temperror, permerror
 * - ARC (RFC 8617 §4.4): pass, fail, none
 */
export type AuthResult =
  | 'pass'
  | 'fail'
  | 'softfail'
  | 'neutral'
  | 'none'
  | 'temperror'
  | 'permerror'
  | 'policy';

/** Every {@link AuthResult}, in RFC 8601 order. */
export const AUTH_RESULTS: readonly AuthResult[] = [
  'pass',
  'fail',
  'softfail',
  'neutral',
  'none',
  'temperror',
  'permerror',
  'policy',
];

/** Where a set of verdicts was computed. */
export type VerdictSource = 'mailauth' | 'ses';

/** The SPF check of the SMTP client (RFC 7208). */
export interface SpfVerdict {
  result: AuthResult;
  /**
   * Which identity was checked: the MAIL FROM domain, or the HELO name when MAIL FROM was the null
   * sender `<>` (RFC 7208 §2.4).
   */
  scope: 'mailfrom' | 'helo';
  /** The domain checked (lower case); null when unknown (SES does not say). */
  domain: string | null;
  /** The MAIL FROM address as given, `''` for the null sender; null when unknown. */
  mailFrom: string | null;
  /** The HELO/EHLO name as given; null when unknown. */
  helo: string | null;
  /** The SMTP client's IP address; null when unknown. */
  clientIp: string | null;
  /** The SPF record evaluated, when one was found. */
  record?: string;
  /** Human-readable explanation. */
  comment?: string;
}

/** The check of one DKIM-Signature (RFC 6376). A message without signatures has none of these. */
export interface DkimVerdict {
  result: AuthResult;
  /** The signing domain (`d=`, lower case); null when the signature could not be read or is unknown (SES). */
  domain: string | null;
  /** The selector (`s=`); null when unknown. */
  selector: string | null;
  /**
   * Whether `d=` is aligned (relaxed, same organizational domain) with the From: domain — the DKIM half
   * of DMARC. A non-passing signature is never counted by DMARC, aligned or not. Null when unknown (SES).
   */
  aligned: boolean | null;
  /** `a=`, e.g. `rsa-sha256`. */
  algorithm?: string;
  /** Human-readable explanation (why it failed, `weak-key` policy…). */
  comment?: string;
}

/** The DMARC evaluation of the From: domain (RFC 7489). */
export interface DmarcVerdict {
  /** `pass` when an aligned SPF or DKIM pass exists; `none` when the domain publishes no policy. */
  result: AuthResult;
  /** The RFC 5322.From domain (lower case); null when the message has no single From: address, or unknown. */
  domain: string | null;
  /**
   * The policy that applies to this message (`sp=` for a subdomain that has no record of its own, else
   * `p=`); null when no policy was found.
   */
  policy: 'none' | 'quarantine' | 'reject' | null;
  /** Percentage of failing mail the policy applies to (`pct=`). @default 100 */
  pct?: number;
  /** Which halves aligned: null when unknown (SES, or no policy to evaluate). */
  alignment: { spf: boolean | null; dkim: boolean | null };
  /** The DMARC record evaluated, when one was found. */
  record?: string;
  /** Human-readable explanation. */
  comment?: string;
}

/** The ARC chain validation (RFC 8617 `cv`). */
export interface ArcVerdict {
  /** `none`: no ARC sets; `pass`: a valid chain; `fail`: a broken one. */
  result: AuthResult;
  /** Instance (`i=`) of the newest ARC set; 0 without a chain, null when unknown. */
  instance: number | null;
  /** Human-readable explanation (why the chain failed). */
  comment?: string;
}

/**
 * A content scan verdict (spam or virus): from the SES receipt (only `verdict`), or from our own ingress's
 * scanners (rspamd, ClamAV; see `scan` in the config), which add what they found.
 */
export interface ContentVerdict {
  /**
   * `gray`: the scan could not decide (rspamd's `greylist`); `temperror`: the scan failed or did not finish
   * in time (SES `PROCESSING_FAILED`; route conditions also accept `processing_failed` for it).
   */
  verdict: 'pass' | 'fail' | 'gray' | 'temperror';
  /** Which scanner decided: `rspamd` or `clamav`. Absent for SES. */
  scanner?: 'rspamd' | 'clamav';
  /** rspamd: the action it chose (`no action`, `greylist`, `add header`, `rewrite subject`, `soft reject`, `reject`). */
  action?: string;
  /** rspamd: the message's score, and the score of its `reject` action. */
  score?: number;
  requiredScore?: number;
  /** rspamd: the names of the symbols that matched (at most 64, highest scores first). */
  symbols?: string[];
  /** ClamAV: the name of the signature found. */
  virus?: string;
  /** Why the scan failed (`temperror`). */
  error?: string;
}

/** Every authentication verdict for one message. Plain JSON: safe to store, send and compare. */
export interface AuthVerdicts {
  /** Who computed them. */
  source: VerdictSource;
  spf: SpfVerdict;
  /** One entry per DKIM-Signature, in header order; empty for an unsigned message. */
  dkim: DkimVerdict[];
  dmarc: DmarcVerdict;
  /** Null when the ingress does not validate ARC (SES). */
  arc: ArcVerdict | null;
  /** Null when no spam scan ran (our own ingress has no scanner). */
  spam: ContentVerdict | null;
  /** Null when no virus scan ran. */
  virus: ContentVerdict | null;
  /**
   * Set when only `spam` and `virus` were computed at the ingress (the end-of-DATA authentication was off
   * or did not finish): processing computes SPF/DKIM/DMARC/ARC and keeps `spam` and `virus`.
   */
  scanOnly?: true;
}

/** Reads a result word from mailauth or elsewhere; anything unknown becomes `permerror`. */
export function toAuthResult(word: unknown): AuthResult {
  const w = typeof word === 'string' ? word.trim().toLowerCase() : '';
  if (w === 'temperr') return 'temperror';
  if (w === 'permerr') return 'permerror';
  if (w === 'skipped') return 'none';
  return (AUTH_RESULTS as readonly string[]).includes(w) ? (w as AuthResult) : 'permerror';
}

/**
 * Verdicts for a message that could not be checked at all (no SMTP client address: injected through the
 * dev HTTP API or `mailroom/testing` without one): every method `none`, with `reason` as the comment, and
 * no DKIM entries. Never a pass, so no route that requires one takes such a message.
 */
export function uncheckedVerdicts(reason: string): AuthVerdicts {
  return {
    source: 'mailauth',
    spf: {
      result: 'none',
      scope: 'mailfrom',
      domain: null,
      mailFrom: null,
      helo: null,
      clientIp: null,
      comment: reason,
    },
    dkim: [],
    dmarc: {
      result: 'none',
      domain: null,
      policy: null,
      alignment: { spf: null, dkim: null },
      comment: reason,
    },
    arc: { result: 'none', instance: null, comment: reason },
    spam: null,
    virus: null,
  };
}

/**
 * The verdicts the ingress stores when only its content scan ran (authentication off at DATA or not
 * finished): processing authenticates the message and keeps `spam` and `virus`.
 */
export function scanOnlyVerdicts(spam: ContentVerdict | null, virus: ContentVerdict | null): AuthVerdicts {
  return { ...uncheckedVerdicts('authenticated during processing'), spam, virus, scanOnly: true };
}

/**
 * One line for traces and logs: `spf=pass dkim=pass dmarc=pass arc=none`. Several DKIM signatures are
 * listed in header order (`dkim=pass,fail`); an unsigned message shows `dkim=none`; ARC, spam and virus
 * appear only when evaluated.
 */
export function authSummary(verdicts: AuthVerdicts): string {
  const parts = [
    `spf=${verdicts.spf.result}`,
    `dkim=${verdicts.dkim.length ? verdicts.dkim.map((d) => d.result).join(',') : 'none'}`,
    `dmarc=${verdicts.dmarc.result}`,
  ];
  if (verdicts.arc) parts.push(`arc=${verdicts.arc.result}`);
  if (verdicts.spam) parts.push(`spam=${verdicts.spam.verdict}`);
  if (verdicts.virus) parts.push(`virus=${verdicts.virus.verdict}`);
  return parts.join(' ');
}

/**
 * Whether the From: domain is authenticated by an aligned SPF or DKIM pass (DMARC identifier alignment,
 * RFC 7489 §3.1): DMARC passed, or a passing DKIM signature's `d=` aligns with From: — the latter also
 * when the domain publishes no DMARC policy.
 */
export function isDmarcAligned(verdicts: Pick<AuthVerdicts, 'dkim' | 'dmarc'>): boolean {
  const { dmarc } = verdicts;
  if (dmarc.result === 'pass' || dmarc.alignment.spf === true || dmarc.alignment.dkim === true) return true;
  return verdicts.dkim.some((d) => d.result === 'pass' && d.aligned === true);
}
