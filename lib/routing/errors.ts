/**
 * A refusal for one recipient, shaped for an SMTP reply. `responseCode` mirrors `code` so the error can be
 * handed straight to smtp-server's `onRcptTo` callback.
 */
export class RoutingError extends Error {
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
  constructor(code: number, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.responseCode = code;
    this.enhanced =
      /^([245]\.\d{1,3}\.\d{1,3})(?:\s|$)/.exec(message)?.[1] ?? `${Math.floor(code / 100)}.0.0`;
  }

  /** Turns a refusal (a rejected verdict or decision) into an error. */
  static from(refusal: { code: number; message: string }): RoutingError {
    return new RoutingError(refusal.code, refusal.message);
  }
}

/** Routes or router options are invalid; `problems` names every bad route (by index and name) at once. */
export class RouteConfigError extends Error {
  override readonly name = 'RouteConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid routes: ${problems.join('; ')}`);
  }
}

/** A reply token could not be created (bad key, unsupported payload value, payload too large). */
export class ReplyTokenError extends Error {
  override readonly name = 'ReplyTokenError';
}

/**
 * A reply signing key is not fit for production (a development key, too short, not random): anyone could
 * forge reply tokens. `keyId` names the key in `replyAddress.keys`.
 */
export class InsecureReplyKeyError extends Error {
  override readonly name = 'InsecureReplyKeyError';
  constructor(
    readonly keyId: string,
    message: string,
  ) {
    super(message);
  }
}
