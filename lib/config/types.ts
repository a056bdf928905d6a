import type { DnsResolver, StaticZone } from '../auth/index.ts';
import type { ParseLimits } from '../message/index.ts';
import type { ReplyLimits } from '../outbound/index.ts';
import type { Route } from '../routing/index.ts';
import type { AttachmentOptions, ResolvedAttachmentOptions } from './attachments-config.ts';
import type { ResolvedRetentionOptions, RetentionOptions } from './retention-config.ts';
import type { ResolvedRetryOptions, RetryOptions } from './retry-config.ts';

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
  /**
   * Server timeout (RFC 5321 §4.5.3.2.7): how long we wait for the client's next command when no more
   * specific timeout below applies. Past it the client gets `421 4.4.2` and is disconnected.
   * @default 300_000 (5 minutes)
   */
  socketTimeoutMs?: number;
  /** How long SIGTERM waits for open sessions before answering 421. @default 30_000 */
  closeTimeoutMs?: number;

  /**
   * Clients connected at once, from all addresses. One more is greeted with `421 4.7.0` and disconnected.
   * @default 100
   */
  maxClients?: number;
  /**
   * Clients connected at once from one IPv4 address or IPv6 /64. One more gets `421 4.7.0`. Small enough
   * that a handful of addresses cannot fill `maxClients`.
   * @default 10
   */
  maxClientsPerIp?: number;
  /** Clients connected at once from one IPv4 /24 or IPv6 /48. One more gets `421 4.7.0`. @default 20 */
  maxClientsPerNetwork?: number;
  /**
   * When all `maxClients` slots are taken, the session that has waited longest for a command (at least
   * this long) is closed (`421 4.7.0`) to make room for the new one; sessions in DATA never are.
   * @default 10_000
   */
  evictIdleAfterMs?: number;
  /**
   * Longest SMTP session. Past it, a session waiting for a command gets `421 4.4.2` (one in DATA first
   * finishes its message, at `minDataRateBytesPerSecond` at least). 0: no limit.
   * @default 1_800_000 (30 minutes)
   */
  maxSessionMs?: number;
  /**
   * Slowest DATA accepted (Postfix's `smtpd_min_data_rate`): once the time spent waiting for the
   * client's message bytes exceeds `dataRateGraceMs`, it must have sent at least this many bytes per
   * second of the excess, or it gets `421 4.4.2` and nothing is stored. 0: no minimum.
   * @default 500
   */
  minDataRateBytesPerSecond?: number;
  /** See `minDataRateBytesPerSecond`. @default 30_000 */
  dataRateGraceMs?: number;
  /**
   * Commands a client may pipeline (RFC 2920) without its input running dry; past it `421 4.5.0`. A whole
   * transaction (MAIL, every RCPT, DATA) fits many times over.
   * @default 1000
   */
  maxPipelinedCommands?: number;
  /**
   * Connections one IPv4 address or IPv6 /64 may open per `rateWindowMs`; past it new connections are
   * greeted with `421 4.7.0`. Refused connections count too. 0 turns the limit off.
   * @default 100
   */
  connectionRatePerIp?: number;
  /**
   * Transactions (MAIL FROM commands) one IPv4 address or IPv6 /64 may start per `rateWindowMs`; past it
   * MAIL FROM gets `450 4.7.1`. 0 turns the limit off.
   * @default 300
   */
  messageRatePerIp?: number;
  /** The window of `connectionRatePerIp` and `messageRatePerIp`. @default 60_000 (1 minute) */
  rateWindowMs?: number;
  /**
   * Addresses and CIDR ranges that the per-IP limits (`maxClientsPerIp`, `connectionRatePerIp`,
   * `messageRatePerIp`) do not apply to. `maxClients` applies to everyone.
   * @default ['127.0.0.1', '::1'] (loopback: local tools and a proxy on the same host)
   */
  limitExemptIps?: string[];
  /**
   * Unrecognised or invalid commands (replies 500–504 and 555) a session may send; the one that reaches
   * the limit gets `421 4.7.0` and the session is closed. The count restarts after each accepted message.
   * @default 10
   */
  maxBadCommands?: number;
  /**
   * Longest command line, CRLF included (RFC 5321 §4.5.3.1.4: 512 octets). A longer line is discarded
   * and answered `500 5.5.2` (it counts as a bad command).
   * @default 512
   */
  maxCommandLineBytes?: number;
  /**
   * Pause between accepting a connection and our `220` greeting (0–30,000 ms). A client that talks
   * before the greeting (an "early talker", typically spamware that does not wait for the server) gets
   * `421 <hostname> You talk too soon` and is disconnected. 0: greet at once, with no early-talker check
   * (what a client sends early waits for the greeting), like Postfix's smtpd without postscreen or Haraka
   * without its early_talker plugin. Each connection waits this long before its first command, so a
   * client that opens one connection per message sends at most 1000 / `greetingDelayMs` messages per
   * second per session.
   * @default 100 (smtp-server's own pause)
   */
  greetingDelayMs?: number;
  /**
   * After our `220` greeting, how long the client may take to send its first command
   * (RFC 5321 §4.5.3.2.1, initial 220 message: 5 minutes).
   * @default 300_000
   */
  greetingTimeoutMs?: number;
  /** After MAIL FROM, how long the client may take to send its next command (§4.5.3.2.2). @default 300_000 */
  mailTimeoutMs?: number;
  /** After RCPT TO, how long the client may take to send its next command (§4.5.3.2.3). @default 300_000 */
  rcptTimeoutMs?: number;
  /**
   * After our `354`, how long the client may take to send the first bytes of the message
   * (§4.5.3.2.4, DATA initiation: 2 minutes).
   * @default 120_000
   */
  dataInitiationTimeoutMs?: number;
  /**
   * During DATA, the longest pause between two blocks of the message (§4.5.3.2.5, data block:
   * 3 minutes). A client that stalls longer gets `421 4.4.2`; nothing of its message is kept.
   * @default 180_000
   */
  dataBlockTimeoutMs?: number;
  /**
   * Our own deadline for answering the end of DATA (§4.5.3.2.6: the client waits 10 minutes). When
   * storing takes longer, `accept()` is aborted and the client gets `451 4.3.0` and retries.
   * @default 600_000
   */
  dataTerminationTimeoutMs?: number;
  /**
   * STARTTLS on this listener: a certificate and key (PEM text or file paths, checked at start), or
   * `'self-signed'` for a certificate made once in `<dataDir>/tls/` (local use only). `false` or unset:
   * no STARTTLS is offered (smtp-server's built-in test key is never used). `mailroom dev` treats unset
   * as `'self-signed'`.
   * @default null
   */
  tls?: { cert: string; key: string } | 'self-signed' | false | null;
  /**
   * PROXY protocol (v1 and v2) from a load balancer: connections from `trustedProxies` (IPs or CIDR
   * ranges) must start with a PROXY header, whose client address then stands for the connection (in
   * `Received:`, limits and SPF). A PROXY header from anyone else is refused and the connection closed.
   * @default null (off)
   */
  proxyProtocol?: ProxyProtocolOptions | null;
}

export interface ProxyProtocolOptions {
  /** Addresses and CIDR ranges of the proxies allowed (and required) to send a PROXY header. */
  trustedProxies: string[];
  /** How long a trusted proxy may take to send its header before the connection is closed. @default 10_000 */
  timeoutMs?: number;
}

/** The authenticated submission listener (port 587): STARTTLS, then AUTH PLAIN/LOGIN, then mail. */
export interface SubmissionOptions {
  /** @default 587 */
  port?: number;
  /** @default smtp.host */
  host?: string;
  /**
   * User name → scrypt hash (`scrypt$N$r$p$salt$hash`, from `mailroom hash-password`). Never passwords.
   * @default {}
   */
  users?: Record<string, string>;
  /**
   * AWS Secrets Manager secret (name or ARN) holding more users as JSON `{ "user": "scrypt$…" }`, read by
   * `mailroom smtp`/`mailroom dev` at start.
   * @default none
   */
  usersSecret?: string;
  /** Failed logins per client address (IPv4, or IPv6 /64) per `loginFailureWindowMs`. @default 5 */
  maxLoginFailures?: number;
  /** @default 300_000 (5 minutes) */
  loginFailureWindowMs?: number;
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
  /**
   * Messages processed at once (fewer when they are big: at most about 64 MiB of messages are in processing
   * together). Much of a message's processing is waiting (the database's sync, a webhook's answer), and
   * with more at once one database commit carries the writes of several messages. Where processing shares
   * the SMTP thread (`workers: 0`), each message in processing also takes turns from the SMTP sessions, so
   * fewer run there. null (the default): 16 in processing worker threads, 4 on the SMTP thread and in the
   * AWS processor (records of one SQS batch at once).
   * @default null
   */
  concurrency?: number | null;
  /**
   * A new message is processed at once while processing has spare capacity (fewer than `concurrency`
   * messages queued or running). During a burst (more than 4 messages being stored at once) processing
   * holds half as many so that accepting (the durable write and the `250`) keeps most of the
   * CPU; a message waits at most this long before it is queued anyway. 0 queues each message at once.
   * @default 2000
   */
  processingDelayMaxMs?: number;
  /**
   * Worker threads that process messages in `mailroom smtp` and `mailroom dev`, off the SMTP event loop.
   * Each loads this config and opens its own SQLite connection; the SMTP thread then only journals the
   * message (fsync before `250`) and hands it over: the worker records it as received and processes it, at
   * a lower scheduling priority (Linux: nice 10), so that on a busy core taking mail comes first. With 1,
   * on one core Mailroom takes mail about 1.4× as fast (bench/ingest.js, 20 sessions) and processing no
   * longer delays the `250`s. 0 processes on the main thread (as `mailroom/testing` always does). Each
   * thread costs a V8 heap of its own and loads the config again: about 40 MiB of RSS while it is new, less
   * once idle (the installed package; run from the TypeScript sources, tsx adds a loader thread per worker,
   * about 30 MiB more), plus a few times the size of a big message while it processes one. In `mailroom dev`
   * the API and the page may show a message a moment after its `250`. `outbound.replyLimits` count per
   * thread. The price on one core is latency: the worker gets the core only when the SMTP thread leaves it,
   * so a message is processed a little later: at a steady 100 msg/s `npm run bench` measured p50/p99 from
   * the `250` to processed of 3.2/42.5 ms with 1, against 2.3/26.0 ms with 0, and with 1 it kept up to
   * between 200 and 400 msg/s. With two cores or more the worker has one of its own.
   * @default 1
   */
  workers?: number;
}

export interface ReplyAddressOptions {
  /**
   * Signing keys by key id (one character, a–z or 0–9). The newest is `currentKeyId`. `mailroom smtp` and
   * the Lambda refuse development keys and keys under 32 characters.
   */
  keys: Record<string, string>;
  currentKeyId: string;
  /** Lifetime of new reply addresses in seconds (pass these options to `replyAddress`). @default 2_592_000 (30 days) */
  expiresInSeconds?: number;
  /**
   * Accept tokens without an expiry, which versions before 30-day expiry minted; they never expire, so turn
   * this on only while such addresses are still in use.
   * @default false
   */
  allowNoExpiry?: boolean;
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
  /**
   * Rate limits of `ctx.reply`, counted in memory per process. A reply past a limit is not sent: it
   * resolves `{ skipped: true, rateLimit }`, is traced and logged, and is not retried.
   * @default { perRecipientPerHour: 10, perMinute: 60 }
   */
  replyLimits?: Partial<ReplyLimits>;
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

/**
 * How messages are authenticated (SPF, DKIM, DMARC, ARC) when they are processed. Verdicts come only from
 * these checks (or the SES receipt on AWS), never from headers in the message.
 */
export interface AuthOptions {
  /**
   * Our authserv-id (RFC 8601): the host name in the `Authentication-Results` header we write.
   * @default smtp.hostname
   */
  authservId?: string;
  /**
   * Answers every DNS question of the checks (see `DnsResolver`). Give this or `dns`, not both.
   * @default the system resolver (`createSystemResolver()`)
   */
  resolver?: DnsResolver;
  /**
   * A DNS zone in memory (name → records, see `StaticZone`) answering every question instead of real DNS:
   * for development and tests, which must never touch real DNS. A name not listed is NXDOMAIN.
   * @default undefined (use `resolver`)
   */
  dns?: StaticZone;
  /**
   * Check SPF/DKIM/DMARC/ARC at the end of DATA, before answering: the stored copy then starts with our
   * `Authentication-Results` header, and incoming ones claiming our authserv-id are removed from it.
   * Adds the DNS lookups' time to each `250`. Messages over 4 MiB are checked during processing instead.
   * @default true for the production `mailroom smtp`, false for `mailroom dev` (verdicts are then computed
   * during processing and shown in the API)
   */
  checkAtData?: boolean;
  /**
   * Refuse `550 5.7.1` at the end of DATA when DMARC fails and the sender's domain publishes
   * `p=reject` (pct=100). Implies `checkAtData`.
   * @default false
   */
  dmarcReject?: boolean;
  /**
   * Longest the end-of-DATA check of one message may take, DNS included. It runs in a worker thread, off
   * the SMTP event loop; past this deadline the message is stored without verdicts (no `451`: the sender
   * did nothing wrong, and a retry would meet the same slow DNS) and processing authenticates it.
   * @default 15_000
   */
  checkDeadlineMs?: number;
  /**
   * How long an SPF verdict is reused for the same client IP, HELO name and MAIL FROM (repeat senders:
   * notifications, lists), in seconds, per resolver; only answers are reused, never `temperror`. DMARC
   * verdicts are reused the same way (same From: domain, passing SPF/DKIM domains, ARC result). The default
   * system resolver keeps DNS answers (records, NXDOMAIN, no records; never timeouts or SERVFAIL) as long,
   * without reading a record's shorter TTL. Each cache keeps at most 10,000 entries. 0 turns both off. At most
   * 3600.
   * @default 60
   */
  cacheSeconds?: number;
}

/** {@link AuthOptions} with the defaults filled in. */
export interface ResolvedAuthOptions {
  /** Lower case, without a trailing dot. */
  authservId: string;
  resolver: DnsResolver;
  /** null: not set, the runner decides (see {@link AuthOptions.checkAtData}). */
  checkAtData: boolean | null;
  dmarcReject: boolean;
  /** See {@link AuthOptions.checkDeadlineMs}. */
  deadlineMs: number;
  /** See {@link AuthOptions.cacheSeconds}. */
  cacheSeconds: number;
}

/**
 * Spam and virus scanning on our own SMTP ingress (`mailroom dev`, `mailroom smtp`), at the end of DATA,
 * before the `250`: rspamd over HTTP and ClamAV's clamd. The verdicts land in `auth.spam` / `auth.virus`
 * (the shape SES fills) and route conditions `when.spam` / `when.virus` read them. Messages over 4 MiB are
 * stored unscanned (verdicts null). Off when neither scanner is given.
 */
export interface ScanOptions {
  /** rspamd's normal worker (`POST /checkv2`). */
  rspamd?: {
    /** e.g. `http://127.0.0.1:11333` */
    url: string;
    /** The worker's password, when it asks for one. */
    password?: string;
    /** Longest one check may take. @default 10_000 */
    timeoutMs?: number;
  };
  /** clamd, over TCP (`TCPSocket`) or a unix socket (`LocalSocket`), with its INSTREAM command. */
  clamav?: ({ host: string; port: number } | { socket: string }) & {
    /** Longest one scan may take. @default 10_000 */
    timeoutMs?: number;
  };
  /**
   * A scanner down, slow or answering badly: `open` accepts the message with the verdict `temperror`
   * (SES's `PROCESSING_FAILED`); `closed` answers `451 4.3.0` so the sender retries later.
   * @default 'open'
   */
  failMode?: 'open' | 'closed';
  /**
   * `reject`: rspamd's `reject` action → `550 5.7.1`, `soft reject` → `451 4.7.1`; `verdict-only`: never
   * refuse, store the message with its verdict (route it with `when.spam`).
   * @default 'reject'
   */
  spamAction?: 'reject' | 'verdict-only';
  /**
   * The mildest rspamd action that makes the verdict `fail`; milder actions give `pass` (`greylist`:
   * `gray`). @default 'add header'
   */
  spamThreshold?: 'greylist' | 'add header' | 'rewrite subject' | 'soft reject' | 'reject';
  /** `reject`: a virus → `554 5.7.1`; `verdict-only`: store it with `virus: fail`. @default 'reject' */
  virusAction?: 'reject' | 'verdict-only';
}

/** {@link ScanOptions} with the defaults filled in. */
export interface ResolvedScanOptions {
  rspamd: { url: string; password?: string; timeoutMs: number } | null;
  clamav: (({ host: string; port: number } | { socket: string }) & { timeoutMs: number }) | null;
  failMode: 'open' | 'closed';
  spamAction: 'reject' | 'verdict-only';
  spamThreshold: NonNullable<ScanOptions['spamThreshold']>;
  virusAction: 'reject' | 'verdict-only';
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
  /** Message authentication (SPF/DKIM/DMARC/ARC). */
  auth?: AuthOptions;
  /** An optional second listener for authenticated submission (needs `smtp.tls`). @default off */
  submission?: SubmissionOptions;
  /** Spam and virus scanning on our own ingress (rspamd, ClamAV). @default off */
  scan?: ScanOptions;
  /** How the processing Lambda retries a failing delivery (see `RetryOptions`). */
  retry?: RetryOptions;
  /**
   * How long the local runtime keeps messages (records, raw bytes, unused attachments), applied on start,
   * every 10 minutes and by `mailroom prune`. Absent: `mailroom dev` keeps the newest 500 messages and
   * `mailroom smtp` keeps everything; `{}` keeps everything.
   */
  retention?: RetentionOptions;
  /** Which attachments are kept and how long their URLs work (see `AttachmentOptions`). */
  attachments?: AttachmentOptions;
}

/** The validated config with every default filled in. */
export interface MailroomConfig {
  domains: string[];
  routes: Route[];
  dataDir: string;
  smtp: Required<SmtpOptions>;
  http: Required<HttpOptions>;
  /** `concurrency` null: the default of where processing runs (see `DeliveryOptions.concurrency`). */
  delivery: Required<DeliveryOptions>;
  parse: Required<ParseLimits>;
  replyAddress: ReplyAddressOptions | null;
  outbound: OutboundOptions & { mode: 'outbox' | 'smtp'; replyLimits: ReplyLimits };
  auth: ResolvedAuthOptions;
  submission:
    | (Required<Omit<SubmissionOptions, 'host' | 'usersSecret'>> & { host?: string; usersSecret?: string })
    | null;
  /** Null when no scanner is configured. Optional so configs built by hand (tests) need not say it. */
  scan?: ResolvedScanOptions | null;
  /** Optional so configs built by hand (tests) need not say it; the default is `DEFAULT_RETRY`. */
  retry?: ResolvedRetryOptions;
  /** Null or absent when the config has no `retention` (each command then uses its default). */
  retention?: ResolvedRetentionOptions | null;
  /** Optional so configs built by hand (tests) need not say it; the default is `DEFAULT_ATTACHMENTS`. */
  attachments?: ResolvedAttachmentOptions;
}
