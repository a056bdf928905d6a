import type { ParseLimits } from '../message/types.ts';
import type { Route } from '../routing/types.ts';

export interface SmtpOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 2525 */
  port?: number;
  /** Name used in the greeting and in Received headers. @default 'mailroom.local' */
  hostname?: string;
  /** Largest message accepted, in bytes (SIZE extension). @default 26_214_400 (25 MiB) */
  maxMessageBytes?: number;
  /** Recipients per message; the next RCPT gets `452 4.5.3`. @default 100 */
  maxRecipients?: number;
  /** Idle socket timeout. @default 300_000 (RFC 5321 §4.5.3.2 gives 5 minutes) */
  socketTimeoutMs?: number;
  /** How long SIGTERM waits for open sessions before answering 421. @default 30_000 */
  closeTimeoutMs?: number;
}

export interface HttpOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 8025 */
  port?: number;
}

export interface DeliveryOptions {
  /** Tries per delivery before it is marked `failed`. @default 5 */
  attempts?: number;
  /** First retry delay; doubled each try (with jitter). @default 500 */
  backoffMs?: number;
  /** @default 30_000 */
  maxBackoffMs?: number;
  /** Messages processed at once. @default 4 */
  concurrency?: number;
  /**
   * While mail keeps arriving, new messages wait up to this long before processing starts, so accepting
   * (the durable write and the `250`) keeps the CPU during a burst. They start as soon as arrivals pause
   * for 20 ms. 0 processes each message at once.
   * @default 2000
   */
  processingDelayMaxMs?: number;
}

export interface ReplyAddressOptions {
  /** Signing keys by key id (one character, a–z or 0–9). The newest is `currentKeyId`. */
  keys: Record<string, string>;
  currentKeyId: string;
}

/** Where handlers' `ctx.reply` sends. */
export interface OutboundOptions {
  /**
   * `outbox`: keep replies in the local store, visible at `GET /api/outbox` (dev). `smtp`: send through a
   * relay. On AWS the SES sender is wired at the edge.
   * @default 'outbox'
   */
  mode?: 'outbox' | 'smtp';
  /** From of replies, e.g. `Support <support@example.com>`. @default the recipient address that routed the message */
  from?: string;
  /** The relay, for `mode: 'smtp'`. */
  smtp?: {
    host: string;
    /** @default 587 (465 when secure) */
    port?: number;
    /** @default false */
    secure?: boolean;
    /** @default false */
    requireTLS?: boolean;
    auth?: { user: string; pass: string };
  };
}

/** What users write in `mailroom.config.ts`. */
export interface MailroomOptions {
  /** Domains we receive mail for. Mail for any other domain is refused `550 5.7.1`. */
  domains: string[];
  /** Ordered; first match wins per recipient unless a route says `continue`. */
  routes: Route[];
  /** Where raw mail and records live locally. @default '.mailroom' */
  dataDir?: string;
  smtp?: SmtpOptions;
  http?: HttpOptions;
  delivery?: DeliveryOptions;
  parse?: ParseLimits;
  replyAddress?: ReplyAddressOptions;
  outbound?: OutboundOptions;
}

/** The validated config with every default filled in. */
export interface MailroomConfig {
  domains: string[];
  routes: Route[];
  dataDir: string;
  smtp: Required<SmtpOptions>;
  http: Required<HttpOptions>;
  delivery: Required<DeliveryOptions>;
  parse: Required<ParseLimits>;
  replyAddress: ReplyAddressOptions | null;
  outbound: OutboundOptions & { mode: 'outbox' | 'smtp' };
}
