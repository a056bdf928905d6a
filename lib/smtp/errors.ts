import { MailroomError, type SmtpReply } from '../kernel/index.ts';

/** The enhanced status code (RFC 3463) a reply text starts with, e.g. `5.3.4` in `5.3.4 Message too big`. */
const LEADING_ENHANCED_CODE = /^([245]\.\d{1,3}\.\d{1,3})(?:\s|$)/;

/**
 * An error that becomes an SMTP reply. smtp-server answers with `responseCode` and the message; a message
 * that starts with an enhanced status code (`5.3.4 …`, RFC 3463) is sent as it is. `smtpReply` carries
 * the same code and that enhanced status; a 4xx is worth retrying, a 5xx is not.
 */
export class SmtpReplyError extends MailroomError {
  override readonly name: string = 'SmtpReplyError';
  declare readonly smtpReply: SmtpReply;
  /** `smtpReply.code`, under the name smtp-server reads. */
  readonly responseCode: number;

  constructor(responseCode: number, message: string, options?: { cause?: unknown }) {
    const enhanced = LEADING_ENHANCED_CODE.exec(message)?.[1];
    super(message, {
      retryable: responseCode < 500,
      smtpReply: enhanced ? { code: responseCode, enhanced } : { code: responseCode },
      cause: options?.cause,
    });
    this.responseCode = this.smtpReply.code;
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

/** A check of the whole message at the end of DATA refused it (e.g. DMARC `p=reject` failed): `550 5.7.1`. */
export class MessageRejectedError extends SmtpReplyError {
  override readonly name = 'MessageRejectedError';
  constructor(code: number, message: string) {
    super(code, message);
  }
}

/** What made a message or a command line malformed. */
export type BareCharacter = 'bare LF' | 'bare CR' | 'NUL';

/**
 * The message contained a bare LF, a bare CR or a NUL (RFC 5321 §2.3.8 allows CR and LF only together):
 * `550 5.5.2`, answered at the real end of DATA. Nothing of the message is stored, so a fake end of data
 * such as `<LF>.<LF>` (SMTP smuggling, CVE-2023-51764/5/6) can neither end it nor smuggle a second one.
 */
export class BareLineEndingError extends SmtpReplyError {
  override readonly name = 'BareLineEndingError';
  constructor(readonly found: BareCharacter) {
    super(550, `5.5.2 Message refused: ${found} in the message, lines must end with CRLF`);
  }
}

/**
 * The client sent the message before our `354`, or more commands after the end of DATA before our reply
 * to it (RFC 2920 §3.1 forbids both): `554 5.5.0`. Nothing of the message is stored.
 */
export class PipeliningError extends SmtpReplyError {
  override readonly name = 'PipeliningError';
  constructor(readonly what: 'before 354' | 'after end of data') {
    super(
      554,
      what === 'before 354'
        ? '5.5.0 SMTP synchronization error: message sent before the 354 reply'
        : '5.5.0 SMTP synchronization error: commands sent before the reply to the end of DATA',
    );
  }
}

/** A connection refused by a limit (`421 4.7.0`, too many clients) or a rate (`450 4.7.1` at MAIL FROM). */
export class LimitError extends SmtpReplyError {
  override readonly name = 'LimitError';
  constructor(
    readonly limit:
      | 'maxClients'
      | 'maxClientsPerIp'
      | 'maxClientsPerNetwork'
      | 'connectionRatePerIp'
      | 'messageRatePerIp',
    code: 421 | 450,
    message: string,
  ) {
    super(code, message);
  }
}

/** A PROXY header that is missing, malformed or not allowed: `421 4.7.0`, the connection is closed. */
export class ProxyProtocolError extends SmtpReplyError {
  override readonly name = 'ProxyProtocolError';
  constructor(message: string) {
    super(421, `4.7.0 ${message}`);
  }
}

/** The ingress's options cannot work (a submission listener without a certificate, a bad address range). */
export class IngressConfigError extends MailroomError {
  override readonly name = 'IngressConfigError';
  constructor(message: string) {
    super(message, { retryable: false });
  }
}

/**
 * smtp-server no longer has an internal member the adapter hooks (after an upgrade): the ingress cannot
 * run safely without it. `member` names it, e.g. `parser._write`.
 */
export class SmtpServerChangedError extends MailroomError {
  override readonly name = 'SmtpServerChangedError';
  constructor(readonly member: string) {
    super(
      `smtp-server hook ${member} is missing or changed: lib/smtp/smtp-server-adapter.ts must be updated for this smtp-server version`,
      { retryable: false },
    );
  }
}
