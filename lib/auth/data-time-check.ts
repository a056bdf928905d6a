import type { Envelope } from '../kernel/index.ts';
import { AuthWorkerPool } from './auth-worker-pool.ts';
import type { DnsResolver } from './dns-resolver.ts';
import { withoutSpans } from './forged-headers.ts';
import type { HeaderLimits } from './header-limits.ts';
import type { AuthVerdicts } from './verdicts.ts';

export interface DataTimeCheckOptions {
  /** Answers the checks' DNS questions, in this thread (the workers ask it). */
  resolver: DnsResolver;
  authservId: string;
  /** Refuse DMARC failures whose domain publishes `p=reject`. @default false */
  dmarcReject?: boolean;
  /** Worker threads running the checks. @default 1, or 2 with more than 2 cores */
  workers?: number;
  /** Longest one check may take, DNS included; past it the decision is `deferred`. @default 15000 */
  deadlineMs?: number;
  /** V8 heap of each worker, in MiB. @default 256 */
  workerHeapMb?: number;
  /** See {@link HeaderLimits}. @default DEFAULT_HEADER_LIMITS */
  headerLimits?: Partial<HeaderLimits>;
  /**
   * How long SPF and DMARC verdicts are reused for the same sender (see `authenticateMessage`'s `cache`), in
   * seconds; 0: never.
   * Only resolvers with a recipe (the static and system ones) are cached in the workers.
   * @default 0
   */
  cacheSeconds?: number;
}

/**
 * What the check decided for one message (the SMTP ingress's `inspect` result shape): our
 * Authentication-Results `prefix` and the `body` without forged ones; a refusal; or `deferred` when the
 * check did not finish (deadline, worker crash, pool closed): accept the message as received, and let
 * processing compute its verdicts.
 */
export type DataTimeDecision =
  | { reject?: undefined; deferred?: undefined; prefix: string; body: Buffer; auth: AuthVerdicts }
  | { reject: { code: number; message: string } }
  | { reject?: undefined; deferred: true; reason: string };

/** The end-of-DATA check; `close()` ends its worker threads. */
export interface DataTimeCheck {
  (input: { envelope: Envelope; raw: Buffer }): Promise<DataTimeDecision>;
  close(): Promise<void>;
}

/**
 * The end-of-DATA check for the SMTP ingress: authenticates the whole message in a worker thread (see
 * {@link AuthWorkerPool}), then either refuses it (`550 5.7.1` for a DMARC `p=reject` failure, when asked)
 * or gives our `Authentication-Results` header to put in front and the body without incoming headers that
 * claim our authserv-id (RFC 8601 §5). Never rejects its promise.
 */
export function createDataTimeCheck(options: DataTimeCheckOptions): DataTimeCheck {
  const deadlineMs = options.deadlineMs ?? 15_000;
  const pool = new AuthWorkerPool({
    deadlineMs,
    ...(options.workers !== undefined ? { size: options.workers } : {}),
    ...(options.workerHeapMb !== undefined ? { heapMb: options.workerHeapMb } : {}),
  });
  void pool.warm(); // the first message should not wait for a worker to load
  const check = async (input: { envelope: Envelope; raw: Buffer }): Promise<DataTimeDecision> => {
    const { envelope, raw } = input;
    const outcome = await pool.inspect(
      raw,
      {
        ip: envelope.remoteAddress ?? '',
        helo: envelope.helo ?? '',
        mailFrom: envelope.mailFrom,
        authservId: options.authservId,
        dmarcReject: options.dmarcReject ?? false,
        // DNS slower than the deadline defers the message (processing asks again) rather than storing
        // temperror verdicts.
        timeoutMs: deadlineMs,
        ...(options.headerLimits ? { headerLimits: options.headerLimits } : {}),
        ...(options.cacheSeconds ? { cacheSeconds: options.cacheSeconds } : {}),
      },
      options.resolver,
    );
    if (outcome.deferred) return { deferred: true, reason: outcome.reason };
    const { inspection } = outcome;
    if (inspection.reject) return { reject: inspection.reject };
    return { prefix: inspection.prefix, body: withoutSpans(raw, inspection.forged), auth: inspection.auth };
  };
  return Object.assign(check, { close: () => pool.close() });
}
