import { MailroomError, type SmtpReply } from '../kernel/index.ts';

/**
 * A refusal for one recipient, shaped for an SMTP reply. `responseCode` mirrors `code` so the error can be
 * handed straight to smtp-server's `onRcptTo` callback; a 4xx refusal is worth retrying, a 5xx is not.
 */
export class RoutingError extends MailroomError {
  override readonly name = 'RoutingError';
  /** SMTP reply code, e.g. 550. */
  readonly code: number;
  /** Enhanced status code, e.g. '5.1.1' (taken from the message, else derived from `code`). */
  readonly enhanced: string;
  /** Same as `code`; smtp-server reads this property. */
  readonly responseCode: number;

  /**
   * @param code SMTP reply code.
   * @param message Reply text, normally starting with the enhanced status code ('5.1.1 no such user').
   */
  declare readonly smtpReply: Required<SmtpReply>;

  constructor(code: number, message: string, options?: { cause?: unknown }) {
    const enhanced =
      /^([245]\.\d{1,3}\.\d{1,3})(?:\s|$)/.exec(message)?.[1] ?? `${Math.floor(code / 100)}.0.0`;
    super(message, { retryable: code < 500, smtpReply: { code, enhanced }, cause: options?.cause });
    this.code = this.smtpReply.code;
    this.responseCode = this.smtpReply.code;
    this.enhanced = this.smtpReply.enhanced;
  }

  /** Turns a refusal (a rejected verdict or decision) into an error. */
  static from(refusal: { code: number; message: string }): RoutingError {
    return new RoutingError(refusal.code, refusal.message);
  }
}

/** Routes or router options are invalid; `problems` names every bad route (by index and name) at once. */
export class RouteConfigError extends MailroomError {
  override readonly name = 'RouteConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid routes: ${problems.join('; ')}`, { retryable: false });
  }
}

/** A reply token could not be created (bad key, unsupported payload value, payload too large). */
export class ReplyTokenError extends MailroomError {
  override readonly name = 'ReplyTokenError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { retryable: false, cause: options?.cause });
  }
}

/**
 * A reply signing key is not fit for production (a development key, too short, not random): anyone could
 * forge reply tokens. `keyId` names the key in `replyAddress.keys`.
 */
export class InsecureReplyKeyError extends MailroomError {
  override readonly name = 'InsecureReplyKeyError';
  constructor(
    readonly keyId: string,
    message: string,
  ) {
    super(message, { retryable: false });
  }
}
