import { type Envelope, MailroomError } from '../kernel/index.ts';

/** One message to scan, as received at the end of DATA. */
export interface ScanInput {
  /** The message bytes as received (without our trace headers). */
  raw: Buffer;
  /** The SMTP envelope, with the client's address and HELO name. */
  envelope: Envelope;
  /** Our id for the SMTP transaction, for the scanner's logs. */
  queueId?: string;
}

/** rspamd's actions, from the mildest. */
export const RSPAMD_ACTIONS = [
  'no action',
  'greylist',
  'add header',
  'rewrite subject',
  'soft reject',
  'reject',
] as const;
export type RspamdAction = (typeof RSPAMD_ACTIONS)[number];

/** What a spam scanner found. */
export interface SpamScan {
  action: RspamdAction;
  score: number;
  requiredScore: number;
  /** Names of the symbols that matched, highest scores first. */
  symbols: string[];
}

/** The `spam` port: rspamd over HTTP by default ({@link createRspamdScanner}). */
export interface SpamScanner {
  readonly name: 'rspamd';
  /** Rejects when the scanner cannot be reached, answers badly, or `signal` aborts. */
  check(input: ScanInput, signal: AbortSignal): Promise<SpamScan>;
}

/** What a virus scanner found. */
export interface VirusScan {
  /** The name of the signature found, or null for a clean message. */
  virus: string | null;
}

/** The `virus` port: clamd's INSTREAM by default ({@link createClamavScanner}). */
export interface VirusScanner {
  readonly name: 'clamav';
  /** Rejects when the scanner cannot be reached, answers badly, or `signal` aborts. */
  scan(raw: Buffer, signal: AbortSignal): Promise<VirusScan>;
}

/** A scanner could not give an answer (down, slow, a bad reply). */
export class ScannerError extends MailroomError {
  override readonly name = 'ScannerError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { retryable: true, cause: options?.cause });
  }
}
