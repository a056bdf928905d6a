import { MailroomError } from '../kernel/index.ts';

/** An MX answer, as `node:dns` gives it. */
export interface MxAnswer {
  exchange: string;
  priority: number;
}

/**
 * What a {@link DnsResolver} answers, by record type (the `node:dns/promises` `resolve()` shapes):
 * TXT → one array of character-strings per record (`[['v=spf1 ', '-all']]`); MX → {@link MxAnswer}s;
 * A, AAAA, PTR, CNAME, NS → strings.
 */
export type DnsAnswer = string[][] | string[] | MxAnswer[];

/**
 * Resolves one DNS question, the way mailauth calls it: `resolver(name, rrtype)` with rrtype `TXT`, `MX`,
 * `A`, `AAAA` or `PTR`. Injected everywhere, so tests never touch real DNS.
 *
 * Failures must be errors carrying the `node:dns` code mailauth reads (see {@link DnsErrorCode}):
 * `ENOTFOUND` for NXDOMAIN and `ENODATA` for a name without records of that type (both count as "void"
 * lookups and mean "nothing published"), `ETIMEOUT`/`ESERVFAIL`/`EREFUSED` for temporary trouble (SPF
 * `temperror`, DKIM `temperror`, DMARC `temperror`).
 */
export type DnsResolver = (name: string, rrtype: string) => Promise<DnsAnswer>;

/** The `node:dns` error codes mailauth distinguishes. */
export type DnsErrorCode = 'ENOTFOUND' | 'ENODATA' | 'ETIMEOUT' | 'ESERVFAIL' | 'EREFUSED';

/** A failed DNS question, with the `code` mailauth reads; cheap to make (no stack trace). */
export class DnsError extends MailroomError {
  override readonly name = 'DnsError';
  readonly code: DnsErrorCode;
  /** The name asked for. */
  readonly hostname: string;
  /** The record type asked for. */
  readonly rrtype: string;

  constructor(code: DnsErrorCode, hostname: string, rrtype: string, options?: { cause?: unknown }) {
    // Most DnsErrors are answers, not bugs: every unpublished SPF/DMARC record is one (ENOTFOUND/ENODATA),
    // so they come by the thousand under load. No stack trace is captured for them (walking the stack was
    // most of their cost); `stack` is just `DnsError: <message>`, and `cause` keeps a resolver's own error.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    // ENOTFOUND/ENODATA are answers (nothing published); the others are temporary trouble.
    super(`${rrtype} ${hostname}: ${code}`, {
      retryable: code !== 'ENOTFOUND' && code !== 'ENODATA',
      cause: options?.cause,
    });
    Error.stackTraceLimit = stackTraceLimit;
    this.code = code;
    this.hostname = hostname;
    this.rrtype = rrtype;
  }
}
