/**
 * An error that becomes an SMTP reply. smtp-server answers with `responseCode` and the message; a message
 * that starts with an enhanced status code (`5.3.4 …`, RFC 3463) is sent as it is.
 */
export class SmtpReplyError extends Error {
  override readonly name: string = 'SmtpReplyError';
  constructor(
    readonly responseCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The message went over `maxMessageBytes`: `552 5.3.4`. */
export class MessageTooBigError extends SmtpReplyError {
  override readonly name = 'MessageTooBigError';
  constructor(
    readonly limit: number,
    options?: { cause?: unknown },
  ) {
    super(552, '5.3.4 Message too big', options);
  }
}

/** More recipients than `maxRecipients`: `452 4.5.3`, the client may send the rest in another transaction. */
export class TooManyRecipientsError extends SmtpReplyError {
  override readonly name = 'TooManyRecipientsError';
  constructor(readonly limit: number) {
    super(452, '4.5.3 Too many recipients');
  }
}

/** The router refused the recipient (`550 5.1.1` unknown user, `550 5.7.1` not our domain, …). */
export class RecipientRejectedError extends SmtpReplyError {
  override readonly name = 'RecipientRejectedError';
  constructor(
    readonly recipient: string,
    code: number,
    message: string,
  ) {
    super(code, message);
  }
}

/** Something on our side failed (storage, a bug): `451 4.3.0`, the sender retries later. */
export class TemporaryFailureError extends SmtpReplyError {
  override readonly name = 'TemporaryFailureError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(451, `4.3.0 ${message}`, options);
  }
}
