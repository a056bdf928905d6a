import type { Envelope } from '../actions/types.ts';
import { authenticateMessage } from './authenticate.ts';
import { authenticationResultsHeader } from './authentication-results.ts';
import { dmarcRejects } from './dmarc-policy.ts';
import type { DnsResolver } from './dns-resolver.ts';
import { stripForgedAuthResults } from './forged-headers.ts';
import type { AuthVerdicts } from './verdicts.ts';

export interface DataTimeCheckOptions {
  resolver: DnsResolver;
  authservId: string;
  /** Refuse DMARC failures whose domain publishes `p=reject`. @default false */
  dmarcReject?: boolean;
}

/** What the check decided for one message (the SMTP ingress's `inspect` result shape). */
export type DataTimeDecision =
  | { reject?: undefined; prefix: string; body: Buffer; auth: AuthVerdicts }
  | { reject: { code: number; message: string } };

/**
 * The end-of-DATA check for the SMTP ingress: authenticates the whole message, then either refuses it
 * (`550 5.7.1` for a DMARC `p=reject` failure, when asked) or gives our `Authentication-Results` header to
 * put in front and the body without incoming headers that claim our authserv-id (RFC 8601 §5).
 */
export function createDataTimeCheck(options: DataTimeCheckOptions) {
  return async (input: { envelope: Envelope; raw: Buffer }): Promise<DataTimeDecision> => {
    const { envelope, raw } = input;
    const verdicts = await authenticateMessage(raw, {
      ip: envelope.remoteAddress ?? '',
      helo: envelope.helo ?? '',
      mailFrom: envelope.mailFrom,
      resolver: options.resolver,
      authservId: options.authservId,
    });
    if (options.dmarcReject && dmarcRejects(verdicts)) {
      const domain = verdicts.dmarc.domain ?? 'the sender domain';
      return {
        reject: {
          code: 550,
          message: `5.7.1 DMARC policy of ${domain} says reject, and this message fails it`,
        },
      };
    }
    return {
      prefix: authenticationResultsHeader(verdicts, options.authservId),
      body: stripForgedAuthResults(raw, options.authservId).raw,
      auth: verdicts,
    };
  };
}
