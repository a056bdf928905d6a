import type { ConnectionOptions } from 'node:tls';
import type { createTransport } from 'nodemailer';

type Transporter = ReturnType<typeof createTransport>;

import { OutboundError } from './errors.ts';
import { contextOf } from './raw-message-info.ts';
import type { OutboundContext, OutboundEnvelope, OutboundMail, OutboundResult } from './types.ts';

/** Where and how to relay outgoing mail over SMTP (your provider's submission server, a smarthost). */
export interface SmtpRelayOptions {
  host: string;
  /** @default 587, or 465 when `secure` */
  port?: number;
  /** TLS from the first byte (port 465). Otherwise STARTTLS is used when the server offers it. @default false */
  secure?: boolean;
  /** Refuse to send unless the connection is upgraded with STARTTLS. @default false */
  requireTLS?: boolean;
  /** Never upgrade with STARTTLS (a local relay or test sink on loopback). @default false */
  ignoreTLS?: boolean;
  /** Credentials for SMTP AUTH; no AUTH when not set. */
  auth?: { user: string; pass: string };
  /** TLS options such as `servername`, `ca` or `rejectUnauthorized`. */
  tls?: ConnectionOptions;
  /** The name we greet with (EHLO). @default the machine's hostname */
  name?: string;
  /** Connecting, greeting and each command each time out after this long. @default 10_000 */
  timeoutMs?: number;
}

/**
 * Relays each message to a configured SMTP server with nodemailer's SMTP transport, with the envelope
 * given (one connection per message). Throws {@link OutboundError} when the server refused every recipient
 * or could not be reached; recipients refused while others were accepted come back in `rejected`.
 */
export class SmtpRelayMail implements OutboundMail {
  readonly kind = 'smtp';
  readonly #options: SmtpRelayOptions;
  readonly #target: string;
  /** nodemailer is loaded on the first send: the Lambda bundle and the CLI's start never pay for it. */
  #transport: Promise<Transporter> | undefined;

  constructor(options: SmtpRelayOptions) {
    this.#options = options;
    this.#target = `${options.host}:${relayPort(options)}`;
  }

  #transporter(): Promise<Transporter> {
    this.#transport ??= import('nodemailer').then(({ createTransport }) => {
      const options = this.#options;
      const timeout = options.timeoutMs ?? 10_000;
      return createTransport({
        host: options.host,
        port: relayPort(options),
        secure: options.secure ?? false,
        requireTLS: options.requireTLS ?? false,
        ignoreTLS: options.ignoreTLS ?? false,
        auth: options.auth ? { user: options.auth.user, pass: options.auth.pass } : undefined,
        tls: options.tls,
        name: options.name,
        connectionTimeout: timeout,
        greetingTimeout: timeout,
        socketTimeout: timeout,
        disableFileAccess: true,
        disableUrlAccess: true,
      });
    });
    return this.#transport;
  }

  async send(raw: Buffer, envelope: OutboundEnvelope, context?: OutboundContext): Promise<OutboundResult> {
    const ctx = await contextOf(raw, context);
    let info: {
      accepted: Array<string | { address: string }>;
      rejected: Array<string | { address: string }>;
    };
    try {
      const transport = await this.#transporter();
      info = await transport.sendMail({ envelope: { from: envelope.from, to: envelope.to }, raw });
    } catch (cause) {
      const e = cause as { response?: string; responseCode?: number; message?: string };
      throw new OutboundError(`SMTP relay ${this.#target}: ${e.response ?? e.message ?? String(cause)}`, {
        cause,
        responseCode: e.responseCode,
      });
    }
    const rejected = info.rejected.map((r) => (typeof r === 'string' ? r : r.address));
    if (info.accepted.length === 0) {
      throw new OutboundError(`SMTP relay ${this.#target} refused every recipient: ${rejected.join(', ')}`);
    }
    return rejected.length ? { messageId: ctx.messageId, rejected } : { messageId: ctx.messageId };
  }

  async close(): Promise<void> {
    if (this.#transport) (await this.#transport).close();
  }
}

function relayPort(options: SmtpRelayOptions): number {
  return options.port ?? (options.secure ? 465 : 587);
}
