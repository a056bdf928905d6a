import type { MessageStore } from '../store/index.ts';
import { OutboundConfigError } from './errors.ts';
import { OutboxMail } from './outbox-mail.ts';
import { SmtpRelayMail, type SmtpRelayOptions } from './smtp-relay-mail.ts';
import type { OutboundMail } from './types.ts';

/** How outgoing mail leaves (the `outbound` config section plus the store). SES: see `lib/aws`. */
export interface OutboundMailOptions {
  /** `outbox`: kept in the store only (dev); `smtp`: relayed to `smtp.host`. */
  mode: 'outbox' | 'smtp';
  /** Required for `outbox`. */
  store?: Pick<MessageStore, 'putOutboxEntry'>;
  /** Required for `smtp`. */
  smtp?: SmtpRelayOptions;
  /** Clock of outbox entries. @default () => new Date() */
  now?: () => Date;
}

/**
 * The {@link OutboundMail} for a mode.
 * @throws OutboundConfigError for an unknown mode or a missing `store` / `smtp.host`.
 */
export function createOutboundMail(options: OutboundMailOptions): OutboundMail {
  switch (options.mode) {
    case 'outbox':
      if (!options.store) throw new OutboundConfigError('outbound mode "outbox" needs the message store');
      return new OutboxMail(options.store, { now: options.now });
    case 'smtp':
      if (!options.smtp?.host) throw new OutboundConfigError('outbound mode "smtp" needs smtp.host');
      return new SmtpRelayMail(options.smtp);
    default:
      throw new OutboundConfigError(
        `unknown outbound mode ${JSON.stringify((options as { mode?: unknown }).mode)}: use "outbox" or "smtp"`,
      );
  }
}
