/**
 * The one base of Mailroom's errors. Every error says whether trying again can succeed (`retryable`) and,
 * when it reaches an SMTP client, which reply it becomes (`smtpReply`, the way Hono's `HTTPException`
 * carries a status). The pipeline, the Lambda and the SMTP ingress decide from these two fields only.
 */

/** An SMTP reply: basic code (RFC 5321 §4.2) and, when there is one, the enhanced status (RFC 3463). */
export interface SmtpReply {
  /** 421, 451, 452, 550, 552, 554, … */
  readonly code: number;
  /** `5.1.1`, `4.3.0`, … */
  readonly enhanced?: string;
}

export interface MailroomErrorOptions {
  /** Whether the same operation may succeed later (a timeout, a 5xx, throttling): `true`; a bad input: `false`. */
  readonly retryable: boolean;
  /** The reply an SMTP client gets for this error, when it reaches one. */
  readonly smtpReply?: SmtpReply;
  readonly cause?: unknown;
}

export class MailroomError extends Error {
  override readonly name: string = 'MailroomError';
  readonly retryable: boolean;
  readonly smtpReply: SmtpReply | undefined;

  constructor(message: string, options: MailroomErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable;
    this.smtpReply = options.smtpReply;
  }
}

/**
 * Whether an operation that threw `err` may succeed when tried again: the first {@link MailroomError} along
 * its `cause` chain says so itself (a handler's `new Error('…', { cause })` keeps the verdict of what it
 * wraps); else an AWS SDK error by `$retryable` / `$fault` (a server fault or throttling is retryable, other
 * client faults are not); anything else (a handler's own error, a network error) is treated as transient.
 */
export function isRetryable(err: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e: unknown = err; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    if (e instanceof MailroomError) return e.retryable;
  }
  if (typeof err === 'object' && err !== null) {
    const aws = err as { $retryable?: unknown; $fault?: unknown };
    if (aws.$retryable) return true;
    if (aws.$fault === 'client') return false;
  }
  return true;
}

/** `550 5.1.1 text`: an SMTP reply line for `reply` (the enhanced status only when there is one). */
export function smtpReplyLine(reply: SmtpReply, text: string): string {
  return reply.enhanced ? `${reply.code} ${reply.enhanced} ${text}` : `${reply.code} ${text}`;
}
