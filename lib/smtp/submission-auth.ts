import type {
  SMTPServerAuthentication,
  SMTPServerAuthenticationResponse,
  SMTPServerSession,
} from 'smtp-server';
import type { Logger } from '../kernel/index.ts';
import { type LoginLimiter, verifyPassword } from '../submission/index.ts';
import { SmtpReplyError } from './errors.ts';
import { clientKey } from './limits.ts';
import { type ClientConnection, smtpServerReplies } from './smtp-server-adapter.ts';
import type { SubmissionAuth } from './types.ts';

/**
 * A well-formed hash of no one's password, checked when the user name is unknown so that a wrong user
 * takes as long to refuse as a wrong password.
 */
const UNKNOWN_USER_HASH =
  'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

type AuthCallback = (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void;

/** smtp-server's `onAuth` for a submission listener: scrypt hashes from config, failures limited per IP. */
export function submissionAuthHandler(
  submission: SubmissionAuth,
  loginLimiter: LoginLimiter,
  logger: Logger,
): (auth: SMTPServerAuthentication, session: SMTPServerSession, callback: AuthCallback) => void {
  return (auth, session, callback) => {
    const users = submission.users;
    const key = clientKey(session.remoteAddress);
    const username = auth.username ?? '';
    const log = { session: session.id, remoteAddress: session.remoteAddress, username, method: auth.method };
    const refused = loginLimiter.begin(key);
    if (refused === 'address') {
      logger.warn('submission login refused: too many failed logins', log);
      callback(new SmtpReplyError(454, '4.7.0 Too many failed logins, try again later'));
      return;
    }
    if (refused === 'busy') {
      logger.warn('submission login refused: too many password checks at once', log);
      callback(new SmtpReplyError(454, '4.7.0 Temporary authentication failure, try again later'));
      return;
    }
    const hash = Object.hasOwn(users, username) ? users[username] : undefined;
    verifyPassword(auth.password ?? '', hash ?? UNKNOWN_USER_HASH).then(
      (ok) => {
        if (ok && hash !== undefined) {
          loginLimiter.succeed(key);
          logger.info('submission login', log);
          callback(null, { user: username });
          return;
        }
        loginLimiter.fail(key);
        logger.warn('submission login failed', log);
        callback(new SmtpReplyError(535, '5.7.8 Authentication credentials invalid'));
      },
      (err: unknown) => {
        loginLimiter.fail(key);
        logger.error('submission login check failed', { ...log, error: String(err) });
        callback(new SmtpReplyError(454, '4.7.0 Temporary authentication failure'));
      },
    );
  };
}

/**
 * Submission: AUTH is not advertised before STARTTLS, and AUTH before it gets the RFC 3207 reply
 * `530 5.7.0` (smtp-server's own is a non-standard `538`).
 */
export function requireStartTlsBeforeAuth(connection: ClientConnection): void {
  connection.filterReplies((code, text, next) => {
    if (smtpServerReplies.isStartTlsRequired(code)) {
      return next(530, '5.7.0 Must issue a STARTTLS command first');
    }
    if (code === 250 && Array.isArray(text) && !connection.secure) {
      return next(
        code,
        text.filter((line) => !/^AUTH\b/i.test(String(line))),
      );
    }
    return next(code, text);
  });
}
