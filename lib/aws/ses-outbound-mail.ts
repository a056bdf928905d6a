import type { SendEmailCommand, SendEmailCommandOutput } from '@aws-sdk/client-sesv2';
import type { OutboundContext, OutboundEnvelope, OutboundMail, OutboundResult } from '../outbound/index.ts';
import { contextOf, OutboundError } from '../outbound/index.ts';

/** The part of an `SESv2Client` that sending needs (a real client satisfies it). */
export interface SesSendClient {
  send(command: SendEmailCommand): Promise<Pick<SendEmailCommandOutput, 'MessageId'>>;
}

export interface SesMailOptions {
  /** `new SESv2Client({ region })`, injected so the caller owns its region, credentials and lifetime. */
  client: SesSendClient;
  /** SES configuration set to send with (event publishing, IP pools). */
  configurationSetName?: string;
}

/**
 * Sends through Amazon SES (SESv2 `SendEmail` with `Content.Raw`): the bytes as built, the envelope as
 * given (`FromEmailAddress` = envelope sender, `Destination.ToAddresses` = envelope recipients). Resolves
 * with SES's message id (SES may put its own Message-ID header on the message; threading rests on the
 * In-Reply-To and References headers, which it keeps).
 */
export class SesMail implements OutboundMail {
  readonly kind = 'ses';
  readonly #client: SesSendClient;
  readonly #configurationSetName: string | undefined;

  constructor(options: SesMailOptions) {
    this.#client = options.client;
    this.#configurationSetName = options.configurationSetName;
  }

  async send(raw: Buffer, envelope: OutboundEnvelope, context?: OutboundContext): Promise<OutboundResult> {
    const ctx = await contextOf(raw, context);
    let out: Pick<SendEmailCommandOutput, 'MessageId'>;
    // Loaded on the first send, so that a process that never replies never loads the SESv2 SDK.
    const { SendEmailCommand } = await import('@aws-sdk/client-sesv2');
    try {
      out = await this.#client.send(
        new SendEmailCommand({
          FromEmailAddress: envelope.from,
          Destination: { ToAddresses: [...envelope.to] },
          Content: { Raw: { Data: raw } },
          ConfigurationSetName: this.#configurationSetName,
        }),
      );
    } catch (cause) {
      const e = cause as { name?: string; message?: string };
      throw new OutboundError(`SES SendEmail failed: ${e.name ?? 'Error'}: ${e.message ?? String(cause)}`, {
        cause,
      });
    }
    return { messageId: out.MessageId ?? ctx.messageId };
  }
}
