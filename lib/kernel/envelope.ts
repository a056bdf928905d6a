/** The SMTP envelope of one message (or its equivalent from SES or the dev API). */
export interface Envelope {
  /** MAIL FROM address; '' for the null sender `<>`. */
  mailFrom: string;
  rcptTo: string[];
  /** Connecting client address, when known. */
  remoteAddress?: string;
  /** HELO/EHLO name, when known. */
  helo?: string;
}
