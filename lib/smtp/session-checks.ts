import type { SMTPServerSession } from 'smtp-server';
import type { SmtpOptions } from '../config/index.ts';
import type { Logger } from '../kernel/index.ts';
import {
  LimitError,
  RecipientRejectedError,
  TemporaryFailureError,
  TooManyRecipientsError,
} from './errors.ts';
import type { InputGuard } from './input-guard.ts';
import { addressMatcher, clientKey, WindowCounter } from './limits.ts';
import type { SlotKeeper } from './slot-keeper.ts';
import type { SmtpIngressDeps } from './types.ts';

/**
 * The ingress's checks at each step of a session: connection limits before the greeting, the message
 * rate at MAIL FROM, the recipient count and the router's verdict at RCPT TO. Each returns the error to
 * answer with, or null.
 */
export class SessionChecks {
  readonly #options: Required<SmtpOptions>;
  readonly #logger: Logger;
  readonly #slots: SlotKeeper;
  readonly #checkRecipient: SmtpIngressDeps['checkRecipient'];
  readonly #exempt: (address: string) => boolean;
  readonly #connectionRate: WindowCounter;
  readonly #messageRate: WindowCounter;

  constructor(
    options: Required<SmtpOptions>,
    logger: Logger,
    slots: SlotKeeper,
    checkRecipient: SmtpIngressDeps['checkRecipient'],
  ) {
    this.#options = options;
    this.#logger = logger;
    this.#slots = slots;
    this.#checkRecipient = checkRecipient;
    this.#exempt = addressMatcher(options.limitExemptIps);
    this.#connectionRate = new WindowCounter(options.rateWindowMs);
    this.#messageRate = new WindowCounter(options.rateWindowMs);
  }

  /** Connection limits, checked before the greeting; a refusal is sent instead of it. */
  admit(session: SMTPServerSession, guard: InputGuard | undefined): LimitError | null {
    const options = this.#options;
    const address = session.remoteAddress;
    const refuse = (limit: LimitError['limit'], text: string) => {
      this.#logger.info('smtp connection refused', { session: session.id, remoteAddress: address, limit });
      return new LimitError(limit, 421, `4.7.0 ${options.hostname} ${text}, try again later`);
    };
    const isExempt = this.#exempt(address);
    const key = clientKey(address);
    if (
      !isExempt &&
      options.connectionRatePerIp > 0 &&
      this.#connectionRate.hit(key) > options.connectionRatePerIp
    ) {
      return refuse('connectionRatePerIp', 'Too many connections from your address');
    }
    if (!guard) return refuse('maxClients', 'Too many connections');
    const refusal = this.#slots.admit({ id: session.id, remoteAddress: address, guard, exempt: isExempt });
    if (refusal === 'maxClients') return refuse('maxClients', 'Too many connections');
    if (refusal === 'maxClientsPerNetwork') return refuse(refusal, 'Too many connections from your network');
    if (refusal) return refuse(refusal, 'Too many connections from your address');
    return null;
  }

  /** MAIL FROM: the client's message rate. */
  mailFrom(session: SMTPServerSession): LimitError | null {
    const address = session.remoteAddress;
    const limit = this.#options.messageRatePerIp;
    if (limit > 0 && !this.#exempt(address) && this.#messageRate.hit(clientKey(address)) > limit) {
      this.#logger.info('smtp message rate limit', { session: session.id, remoteAddress: address });
      return new LimitError(
        'messageRatePerIp',
        450,
        '4.7.1 Too many messages from your address, try again later',
      );
    }
    return null;
  }

  /** RCPT TO: at most `maxRecipients` (a repeated one does not count), then the router's verdict. */
  recipient(rcpt: string, session: SMTPServerSession): Error | null {
    const envelope = session.envelope;
    const key = rcpt.toLowerCase();
    const max = this.#options.maxRecipients;
    if (envelope.rcptTo.length >= max && !envelope.rcptTo.some((r) => r.address.toLowerCase() === key)) {
      return new TooManyRecipientsError(max);
    }
    const mailFrom = envelope.mailFrom ? envelope.mailFrom.address : '';
    try {
      const verdict = this.#checkRecipient(rcpt, { mailFrom });
      if (verdict.accepted) return null;
      this.#logger.info('recipient refused', { session: session.id, mailFrom, rcpt, code: verdict.code });
      return new RecipientRejectedError(rcpt, verdict.code, verdict.message);
    } catch (err) {
      this.#logger.error('recipient check failed', { session: session.id, rcpt, error: String(err) });
      return new TemporaryFailureError('Cannot check the recipient now, try again later', { cause: err });
    }
  }
}
