import type { SMTPServer } from 'smtp-server';
import type { AuthVerdicts } from '../auth/index.ts';
import type { SmtpOptions } from '../config/index.ts';
import type { Envelope, Logger } from '../kernel/index.ts';
import type { RecipientVerdict, RoutingInput } from '../routing/index.ts';
import type { LoginLimiter } from '../submission/index.ts';
import type { TlsCredentials } from '../tls/index.ts';

/** One message handed over at the end of DATA. */
export interface AcceptInput {
  envelope: Envelope;
  /** Trace headers to store in front of the body (our `Received:`), CRLF-terminated. */
  prefix: Buffer;
  /**
   * The message exactly as received (dot-stuffing undone), streamed while the client sends it. It throws
   * (a `MessageTooBigError`) once the message goes over `maxMessageBytes`, and with the client's
   * error when the connection drops; whatever was stored must then be discarded.
   */
  body: AsyncIterable<Buffer>;
  /** Aborted when the message will not be accepted (too big, client gone, server shut down). */
  signal: AbortSignal;
  /** Verdicts from `inspect` (end-of-DATA authentication), to keep with the message. */
  auth?: AuthVerdicts;
}

export interface SmtpIngressDeps {
  /** Missing options take their defaults (the same as `resolveConfig()` fills in). */
  options: SmtpOptions;
  /** RCPT-time decision, from the router. `<>` senders and postmaster are the router's business too. */
  checkRecipient(rcpt: string, input: RoutingInput): RecipientVerdict;
  /** Stores durably and records; resolves with the id only once durable. */
  accept(input: AcceptInput): Promise<{ id: string }>;
  /**
   * Looks at the whole message at the end of DATA, before it is stored (messages up to 4 MiB; bigger ones
   * are stored without it): may add trace headers in front (our `Authentication-Results`), replace the
   * body (with forged headers removed), or refuse the message. `queueId` names the SMTP transaction (as in
   * our `Received:` header) for the scanners' logs.
   * @default none
   */
  inspect?: (input: { envelope: Envelope; raw: Buffer; queueId?: string }) => Promise<InspectResult>;
  /**
   * With `inspect`: cleans the first 4 MiB of a message too big to inspect (removes the forged
   * `Authentication-Results` fields from its header block); the result is stored in its place.
   * @default none
   */
  cleanHead?: (head: Buffer) => Buffer;
  /** @default no logging */
  logger?: Logger;
  /**
   * The certificate for STARTTLS (`options.tls` resolved by the caller, see `tlsCredentialsFor`).
   * @default null (no STARTTLS offered)
   */
  tls?: TlsCredentials | null;
  /**
   * Makes this a submission listener: STARTTLS, then AUTH PLAIN/LOGIN (required before MAIL FROM).
   * @default null (an MX: no AUTH)
   */
  submission?: SubmissionAuth | null;
}

/** What {@link SmtpIngressDeps.inspect} decided. */
export type InspectResult =
  | { reject?: undefined; deferred?: undefined; prefix?: string; body?: Buffer; auth?: AuthVerdicts }
  | { reject: { code: number; message: string } }
  /**
   * The check did not finish (deadline, worker lost): store `body` (or the message) without verdicts, or
   * with only the content scan's (`auth.scanOnly`).
   */
  | {
      reject?: undefined;
      deferred: true;
      reason: string;
      body?: Buffer;
      prefix?: undefined;
      auth?: AuthVerdicts;
    };

export interface SubmissionAuth {
  /** User name → scrypt hash (`hashPassword`). */
  users: Record<string, string>;
  /** Counts failed logins per client address. @default new LoginLimiter() (5 per 5 minutes) */
  loginLimiter?: LoginLimiter;
}

export interface SmtpIngress {
  /** Starts listening on `options.host`:`options.port` (port 0 picks a free one). */
  listen(): Promise<{ port: number }>;
  /**
   * Graceful stop: no new connections; idle sessions get `421` at once; a session in the middle of DATA
   * may finish it (and get its reply) for up to `closeTimeoutMs`, then gets `421` and is disconnected.
   */
  close(): Promise<void>;
  readonly server: SMTPServer;
}
