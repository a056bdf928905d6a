import type { OutboundContext, OutboundEnvelope, OutboundMail, OutboundResult } from '../outbound/index.ts';
import { traced } from './observability/tracing.ts';

export interface ProcessorOutboundOptions {
  /** SES configuration set for replies (event publishing, IP pools). @default none */
  configurationSetName?: string;
}

/**
 * Where handlers' `ctx.reply` sends from the processing Lambda: Amazon SES (SESv2 `SendEmail`, raw), as the
 * config's `outbound` documents ("on AWS the SES sender is wired at the edge"); its `outbox` and `smtp`
 * modes are for local and self-hosted processing. Replies are still kept in the outbox table.
 *
 * The SESv2 client is loaded on the first reply, so invocations that never reply pay nothing for it at
 * cold start.
 */
export function processorOutbound(options: ProcessorOutboundOptions = {}): OutboundMail {
  let transport: Promise<OutboundMail> | undefined;
  const load = async (): Promise<OutboundMail> => {
    const [{ SESv2Client }, { SesMail }] = await Promise.all([
      import('@aws-sdk/client-sesv2'),
      import('./ses-outbound-mail.ts'),
    ]);
    return new SesMail({
      client: traced(new SESv2Client({})),
      ...(options.configurationSetName === undefined
        ? {}
        : { configurationSetName: options.configurationSetName }),
    });
  };
  return {
    kind: 'ses',
    send(raw: Buffer, envelope: OutboundEnvelope, context?: OutboundContext): Promise<OutboundResult> {
      transport ??= load().catch((err: unknown) => {
        transport = undefined;
        throw err;
      });
      return transport.then((t) => t.send(raw, envelope, context));
    },
  };
}
