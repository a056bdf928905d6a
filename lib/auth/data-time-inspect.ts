import { authenticateMessage } from './authenticate.ts';
import { authenticationResultsHeader } from './authentication-results.ts';
import { dmarcRejects } from './dmarc-policy.ts';
import type { DnsResolver } from './dns-resolver.ts';
import { findForgedAuthResults, type HeaderFieldSpan } from './forged-headers.ts';
import type { HeaderLimits } from './header-limits.ts';
import { authCachesFor } from './verdict-cache.ts';
import type { AuthVerdicts } from './verdicts.ts';

/** What the end-of-DATA check needs besides the message and DNS; plain data, so it can cross to a worker. */
export interface DataTimeRequest {
  ip: string;
  helo: string;
  mailFrom: string;
  authservId: string;
  dmarcReject: boolean;
  headerLimits?: Partial<HeaderLimits>;
  /** DNS budget for the message (see `AuthenticateInput.timeoutMs`). */
  timeoutMs?: number;
  /** How long SPF and DMARC verdicts are reused for the same sender, in seconds; 0 or none: not at all. */
  cacheSeconds?: number;
}

/**
 * The end-of-DATA check's findings: a refusal, or our Authentication-Results header and where the forged
 * ones are (byte spans, so the caller cuts them out of its own copy of the message).
 */
export type DataTimeInspection =
  | { reject: { code: number; message: string } }
  | { reject?: undefined; prefix: string; forged: HeaderFieldSpan[]; auth: AuthVerdicts };

/**
 * Authenticates one message and decides: `550 5.7.1` for a DMARC `p=reject` failure (when asked), else
 * our `Authentication-Results` header to put in front and the incoming ones claiming our authserv-id
 * (RFC 8601 §5). Every step is linear in the message (header limits: see {@link HeaderLimits}).
 * `cacheScope` is what verdicts are cached under (see {@link authCachesFor}): the object standing for
 * `resolver`'s DNS, `resolver` itself unless it is a wrapper made for this one message; null: no cache.
 */
export async function inspectAtDataTime(
  raw: Buffer,
  request: DataTimeRequest,
  resolver: DnsResolver,
  cacheScope: object | null = resolver,
): Promise<DataTimeInspection> {
  const cache = cacheScope ? authCachesFor(cacheScope, request.cacheSeconds ?? 0) : undefined;
  const verdicts = await authenticateMessage(raw, {
    ip: request.ip,
    helo: request.helo,
    mailFrom: request.mailFrom,
    resolver,
    authservId: request.authservId,
    ...(request.headerLimits ? { headerLimits: request.headerLimits } : {}),
    ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}),
    ...(cache ? { cache } : {}),
  });
  if (request.dmarcReject && dmarcRejects(verdicts)) {
    const domain = verdicts.dmarc.domain ?? 'the sender domain';
    return {
      reject: {
        code: 550,
        message: `5.7.1 DMARC policy of ${domain} says reject, and this message fails it`,
      },
    };
  }
  return {
    prefix: authenticationResultsHeader(verdicts, request.authservId),
    forged: findForgedAuthResults(raw, request.authservId),
    auth: verdicts,
  };
}
