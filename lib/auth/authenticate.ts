import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import type { ARCData, ARCResult, DKIMResult, DKIMVerifyResult, DNSResolver, SPFResult } from 'mailauth';
import { errorText } from '../kernel/index.ts';
import { dkimInput, limitDkimSignatures } from './dkim-limit.ts';
import { checkDmarc } from './dmarc-check.ts';
import { DnsError, type DnsResolver } from './dns-resolver.ts';
import { checkHeaderLimits, type HeaderLimits } from './header-limits.ts';
import type { AuthCaches } from './verdict-cache.ts';
import {
  type ArcVerdict,
  type AuthVerdicts,
  type DkimVerdict,
  type SpfVerdict,
  toAuthResult,
} from './verdicts.ts';

/**
 * mailauth, loaded on first use: processes whose mail arrives with its verdicts (SES receipts, the SMTP
 * ingress's end-of-DATA check stored with the message) never load it, which keeps the Lambda's cold start
 * short (its bundle leaves mailauth out; see bench/bundle.js).
 */
type Mailauth = typeof import('mailauth');
let mailauth: Promise<Mailauth> | undefined;
const loadMailauth = (): Promise<Mailauth> => {
  // mailauth is CommonJS: its `default` is module.exports, whether Node loads it from node_modules or from
  // the single-file build deployed beside the Lambda bundle.
  mailauth ??= import('mailauth').then((m) => (m as { default: Mailauth }).default ?? m);
  return mailauth;
};

/**
 * Loads mailauth now (it is loaded on first use otherwise): a long-running process calls this at start so
 * that its first message does not wait ~0.5 s, on its event loop, for mailauth and its dependencies to load.
 */
export async function preloadAuthentication(): Promise<void> {
  await loadMailauth();
}

/** What {@link authenticateMessage} needs besides the message: the SMTP transaction, and DNS. */
export interface AuthenticateInput {
  /** The SMTP client's IP address (IPv4-mapped IPv6 is read as IPv4). */
  ip: string;
  /** The name the client gave in HELO/EHLO; `''` when it gave none. */
  helo: string;
  /** The MAIL FROM address; `''` for the null sender `<>` (then SPF checks the HELO name). */
  mailFrom: string;
  /** Answers every DNS question (SPF, DKIM keys, DMARC policy, ARC keys). */
  resolver: DnsResolver;
  /** Our authserv-id (RFC 8601), normally the receiving host name; used in comments. */
  authservId: string;
  /**
   * The time DKIM signatures are judged at (`t=`, `x=`).
   * @default new Date()
   */
  now?: Date;
  /**
   * Shortest DKIM/ARC key accepted; a shorter one gives DKIM `policy` (weak key).
   * @default 1024
   */
  minBitLength?: number;
  /**
   * DKIM signatures verified per message, topmost first; the rest are reported as `policy` verdicts
   * without a DNS question or body hash (see {@link limitDkimSignatures}).
   * @default 5
   */
  maxDkimSignatures?: number;
  /**
   * Time budget for all DNS questions of one message: once spent, every further question fails at once
   * with `ETIMEOUT` (so a chain of slow lookups ends in `temperror` verdicts, not a stalled SMTP reply).
   * @default 20000
   */
  timeoutMs?: number;
  /**
   * How complex a header block mailauth may read (see {@link HeaderLimits}); a message over a limit gets
   * SPF checked and `permerror` DKIM/DMARC and `fail` ARC verdicts saying which limit, without mailauth
   * reading its header.
   * @default DEFAULT_HEADER_LIMITS
   */
  headerLimits?: Partial<HeaderLimits>;
  /**
   * SPF and DMARC verdicts to reuse and to keep (see {@link AuthCaches}); they must belong to `resolver`'s
   * DNS ({@link authCachesFor}). Without them, both are checked for every message.
   */
  cache?: AuthCaches;
}

/**
 * Checks SPF (client IP, HELO, MAIL FROM), DKIM, ARC and DMARC for one message with mailauth, every DNS
 * question going to `input.resolver`. Reads only the message and the SMTP transaction: never
 * Authentication-Results, `X-SES-*` or any other verdict header a sender can write. Never throws for a
 * hostile or malformed message or for DNS failures (those become `temperror`/`permerror` verdicts).
 *
 * This is mailauth's `authenticate()` step by step, so that `now` reaches the DKIM check and nothing else
 * (BIMI, ARC sealing, `Received:` parsing) runs.
 */
export async function authenticateMessage(raw: Buffer, input: AuthenticateInput): Promise<AuthVerdicts> {
  const { dkimVerify, arc, dmarc } = await loadMailauth();
  const deadline = Date.now() + (input.timeoutMs ?? 20_000);
  const budgeted: DnsResolver = (name, rrtype) =>
    Date.now() < deadline
      ? input.resolver(name, rrtype)
      : Promise.reject(new DnsError('ETIMEOUT', name, rrtype));
  const resolver = budgeted as unknown as DNSResolver;
  const ip = input.ip.trim().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  const mailFrom = input.mailFrom.trim();
  const helo = input.helo.trim();

  const tooComplex = checkHeaderLimits(raw, input.headerLimits);
  const spfVerdict = async (): Promise<SpfVerdict> => {
    const question = `${ip}\n${helo}\n${mailFrom}\n${input.authservId}`;
    const cached = input.cache?.spf.get(question);
    if (cached) return cached;
    const verdict = await checkSpf(ip, helo, mailFrom, input.authservId, budgeted);
    input.cache?.spf.set(question, verdict);
    return verdict;
  };
  // mailauth's header parsing is superlinear (see header-limits.ts): such a header is never given to it.
  if (tooComplex) return { ...notChecked(tooComplex.message), spf: await spfVerdict() };

  const limited = limitDkimSignatures(raw, input.maxDkimSignatures ?? 5);
  let dkimResult: DKIMVerifyResult;
  try {
    // One chunk: mailauth's relaxed body hash copies and rescans a line's start for every chunk the line
    // spans (quadratic: a 20 MiB single-line body took 14 s in 64 KiB chunks), never within one chunk.
    dkimResult = await dkimVerify(Readable.from([dkimInput(limited.raw)]), {
      resolver,
      sender: mailFrom || undefined,
      curTime: input.now ?? new Date(),
      minBitLength: input.minBitLength,
    });
  } catch (err) {
    // mailauth could not read the message at all: nothing below can be judged.
    return unreadable(ip, helo, mailFrom, err);
  }

  const spf = await spfVerdict();

  const arcResult = await guard<ARCResult | null>(
    () => arc(dkimResult.arc as unknown as ARCData, { resolver, minBitLength: input.minBitLength }),
    () => null,
  );

  const dkimVerdicts = (dkimResult.results ?? [])
    .filter((r) => r.signingDomain || toAuthResult(r.status?.result) !== 'none')
    .map(toDkimVerdict)
    .concat(limited.skipped);

  const dmarcVerdict = await checkDmarc({
    dmarc,
    headerFrom: dkimResult.headerFrom ?? [],
    spf,
    dkim: dkimResult.results ?? [],
    arcResult,
    resolver,
    cache: input.cache?.dmarc,
  });

  return {
    source: 'mailauth',
    spf,
    dkim: dkimVerdicts,
    dmarc: dmarcVerdict,
    arc: arcResult
      ? toArcVerdict(arcResult)
      : { result: 'fail', instance: null, comment: 'ARC validation failed' },
    spam: null,
    virus: null,
  };
}

/** Runs one check; a throw (a mailauth bug on hostile input) becomes the fallback verdict. */
async function guard<T>(check: () => Promise<T>, fallback: (err: unknown) => T): Promise<T> {
  try {
    return await check();
  } catch (err) {
    return fallback(err);
  }
}

function unreadable(ip: string, helo: string, mailFrom: string, err: unknown): AuthVerdicts {
  const comment = `message could not be read: ${errorText(err)}`;
  return {
    ...notChecked(comment),
    spf: {
      result: 'temperror',
      scope: mailFrom ? 'mailfrom' : 'helo',
      domain: null,
      mailFrom,
      helo: helo || null,
      clientIp: ip || null,
      comment,
    },
  };
}

/**
 * DKIM, DMARC and ARC when the message itself keeps them from being checked: `permerror` (RFC 8601: an
 * error that retrying will not fix) for DKIM and DMARC; ARC has only pass/fail/none (RFC 8617), and an
 * unverified chain is no pass.
 */
function notChecked(comment: string): Omit<AuthVerdicts, 'spf'> {
  return {
    source: 'mailauth',
    dkim: [{ result: 'permerror', domain: null, selector: null, aligned: null, comment }],
    dmarc: { result: 'permerror', domain: null, policy: null, alignment: { spf: null, dkim: null }, comment },
    arc: { result: 'fail', instance: null, comment },
    spam: null,
    virus: null,
  };
}

/** The SPF verdict; a throw (a mailauth bug on hostile input) becomes `temperror`. */
function checkSpf(
  ip: string,
  helo: string,
  mailFrom: string,
  authservId: string,
  resolver: DnsResolver,
): Promise<SpfVerdict> {
  return guard(
    () => spfOf(ip, helo, mailFrom, authservId, resolver),
    (err): SpfVerdict => ({
      result: 'temperror',
      scope: mailFrom ? 'mailfrom' : 'helo',
      domain: null,
      mailFrom,
      helo: helo || null,
      clientIp: ip || null,
      comment: errorText(err),
    }),
  );
}

async function spfOf(
  ip: string,
  helo: string,
  mailFrom: string,
  authservId: string,
  resolver: DnsResolver,
): Promise<SpfVerdict> {
  const base = {
    scope: mailFrom ? 'mailfrom' : 'helo',
    mailFrom,
    helo: helo || null,
    clientIp: ip || null,
  } as const;
  if (!isIP(ip)) {
    return { ...base, result: 'none', domain: null, comment: 'no client IP address to check' };
  }
  // RFC 7208 §2.3: an address literal HELO is checked as `[ip]` (it has no SPF record).
  const heloName = helo ? (isIP(helo) ? `[${helo}]` : helo) : `[${ip}]`;
  const { spf } = await loadMailauth();
  const result: SPFResult = await spf({
    ip,
    helo: heloName,
    sender: mailFrom || undefined,
    mta: authservId,
    resolver: resolver as unknown as DNSResolver,
  });
  const verdict: SpfVerdict = {
    ...base,
    result: toAuthResult(result.status?.result),
    domain: result.domain && result.domain !== '-' ? result.domain.toLowerCase() : null,
  };
  if (result.rr) verdict.record = result.rr;
  if (result.status?.comment) verdict.comment = result.status.comment;
  return verdict;
}

function toDkimVerdict(r: DKIMResult): DkimVerdict {
  const status = r.status ?? { result: 'permerror' };
  const verdict: DkimVerdict = {
    result: toAuthResult(status.result),
    domain: r.signingDomain ? r.signingDomain.toLowerCase() : null,
    selector: r.selector ?? null,
    aligned: Boolean(status.aligned),
  };
  const algorithm = (r as { algo?: unknown }).algo ?? r.algorithm;
  if (typeof algorithm === 'string' && algorithm) verdict.algorithm = algorithm;
  const comments = [status.comment, status.policy?.['dkim-rules']].filter(Boolean);
  if (comments.length) verdict.comment = comments.join('; ');
  return verdict;
}

function toArcVerdict(a: ARCResult): ArcVerdict {
  const verdict: ArcVerdict = {
    result: toAuthResult(a?.status?.result),
    instance: typeof a?.i === 'number' ? a.i : null,
  };
  if (a?.status?.comment) verdict.comment = a.status.comment;
  return verdict;
}
