import type { AuthResult, AuthVerdicts, ContentVerdict, DkimVerdict, DmarcVerdict } from './verdicts.ts';

/** One SES verdict: `PASS`, `FAIL`, `GRAY` or `PROCESSING_FAILED`. */
export interface SesVerdict {
  status: string;
}

/** The verdict part of an SES receipt (`Records[].ses.receipt` of the Lambda event, `receipt` of SNS). */
export interface SesReceipt {
  spfVerdict?: SesVerdict;
  dkimVerdict?: SesVerdict;
  dmarcVerdict?: SesVerdict;
  /** The sender domain's DMARC policy: `none`, `quarantine` or `reject`. */
  dmarcPolicy?: string;
  spamVerdict?: SesVerdict;
  virusVerdict?: SesVerdict;
}

/** The parts of the SES `mail` object that name the identities the verdicts are about. */
export interface SesMail {
  /** The envelope MAIL FROM address. */
  source?: string;
  commonHeaders?: {
    /** From: header values, e.g. `["Jane Doe <jane@example.com>"]`. */
    from?: string[];
  };
}

/**
 * Maps the verdicts of an SES receipt to {@link AuthVerdicts} (`source: 'ses'`), the same shape our own
 * ingress produces. SES statuses: `PASS` → pass; `FAIL` → fail; `GRAY` → none (no SPF record, no DKIM
 * signature, no DMARC policy); `PROCESSING_FAILED` → temperror; a missing verdict → none. For spam and
 * virus: pass, fail, gray, temperror, and null when the receipt has no such verdict (scanning off).
 * SES gives one DKIM verdict for the message: it becomes one entry without domain (none for `GRAY`).
 * SES does not validate ARC: `arc` is null. Identities SES does not report (client IP, HELO, DKIM `d=`,
 * alignment) are null. `mail` (optional) supplies the MAIL FROM (`source`) and the From: domain.
 *
 * Only the receipt is read, never the `X-SES-*` headers of the message, which a sender can forge.
 */
export function mapSesVerdicts(receipt: SesReceipt, mail?: SesMail): AuthVerdicts {
  const mailFrom = typeof mail?.source === 'string' ? mail.source.trim() : null;
  const spfDomain = mailFrom?.includes('@')
    ? mailFrom.slice(mailFrom.lastIndexOf('@') + 1).toLowerCase()
    : null;

  const dkimResult = authResult(receipt.dkimVerdict);
  const dkim: DkimVerdict[] =
    dkimResult === 'none' ? [] : [{ result: dkimResult, domain: null, selector: null, aligned: null }];

  const dmarc: DmarcVerdict = {
    result: authResult(receipt.dmarcVerdict),
    domain: fromDomain(mail?.commonHeaders?.from),
    policy: dmarcPolicy(receipt.dmarcPolicy),
    alignment: { spf: null, dkim: null },
  };

  return {
    source: 'ses',
    spf: {
      result: authResult(receipt.spfVerdict),
      scope: 'mailfrom',
      domain: spfDomain || null,
      mailFrom,
      helo: null,
      clientIp: null,
    },
    dkim,
    dmarc,
    arc: null,
    spam: contentVerdict(receipt.spamVerdict),
    virus: contentVerdict(receipt.virusVerdict),
  };
}

function statusOf(verdict: SesVerdict | undefined): string | null {
  const status = verdict?.status;
  return typeof status === 'string' ? status.trim().toUpperCase() : null;
}

function authResult(verdict: SesVerdict | undefined): AuthResult {
  switch (statusOf(verdict)) {
    case 'PASS':
      return 'pass';
    case 'FAIL':
      return 'fail';
    case 'PROCESSING_FAILED':
      return 'temperror';
    case 'GRAY':
    case null:
      return 'none';
    default:
      return 'permerror';
  }
}

function contentVerdict(verdict: SesVerdict | undefined): ContentVerdict | null {
  switch (statusOf(verdict)) {
    case null:
      return null;
    case 'PASS':
      return { verdict: 'pass' };
    case 'FAIL':
      return { verdict: 'fail' };
    case 'GRAY':
      return { verdict: 'gray' };
    default:
      return { verdict: 'temperror' };
  }
}

function dmarcPolicy(policy: unknown): DmarcVerdict['policy'] {
  const p = typeof policy === 'string' ? policy.trim().toLowerCase() : '';
  return p === 'none' || p === 'quarantine' || p === 'reject' ? p : null;
}

/** The domain of the single From: address; null when there is not exactly one. */
function fromDomain(from: string[] | undefined): string | null {
  if (!Array.isArray(from) || from.length !== 1 || typeof from[0] !== 'string') return null;
  const value = from[0];
  const address = /<([^<>]*)>\s*$/.exec(value)?.[1] ?? value;
  const at = address.lastIndexOf('@');
  if (at < 0) return null;
  const domain = address
    .slice(at + 1)
    .trim()
    .toLowerCase();
  return /^[^\s,;<>]+$/.test(domain) ? domain : null;
}
