/** A mailbox address as it appears in a header. `name` is '' when the header gave none. */
export interface Address {
  address: string;
  name: string;
}

export interface Attachment {
  filename: string | null;
  contentType: string;
  /** Decoded size in bytes. */
  size: number;
  /** Hex SHA-256 of the decoded content. */
  sha256: string;
  contentId: string | null;
  /** `attachment`, `inline`, or null when the part gave no Content-Disposition. */
  disposition: string | null;
  /**
   * Where its decoded bytes are served: the stable API path `/api/messages/<id>/attachments/<n>` (`n` its
   * index in `attachments`) once the content is kept; null when it was not (not parsed by a pipeline that
   * keeps attachments, a content type or size the `attachments` options leave out, a failed write).
   */
  url: string | null;
  /** Whether its content is in the attachment store (content-addressed by `sha256`). */
  stored: boolean;
  /** True when the HTML body references it as `cid:<contentId>` (an inline image of the HTML). */
  related: boolean;
  /**
   * Set on a file decoded from a legacy encoding: `part` is the index in `attachments` of the part it was
   * in (a uuencoded part, BinHex, TNEF `winmail.dat`), or `'text'` for a uuencoded block of the text.
   */
  source?: { part: number | 'text'; encoding: AttachmentSourceEncoding };
  /** True on a part whose files are listed after it (`source.part` names it): TNEF, BinHex, uuencoded. */
  container?: boolean;
  /** True on a signature part (S/MIME `smime.p7s`, PGP `signature.asc`): kept, for UIs to hide. */
  signature?: boolean;
}

/** How a file decoded from a legacy encoding was encoded. */
export type AttachmentSourceEncoding = 'uuencode' | 'binhex' | 'tnef';

export interface HeaderField {
  /** Lower-case header name. */
  key: string;
  /** Unfolded, decoded value. */
  value: string;
}

/** The normalized parse of one message. Field names are a public contract (see DESIGN.md). */
export interface ParsedMessage {
  messageId: string | null;
  /** ISO 8601, or null when absent or unparseable. */
  date: string | null;
  subject: string | null;
  from: Address | null;
  to: Address[];
  cc: Address[];
  replyTo: Address[];
  inReplyTo: string | null;
  references: string[];
  text: string | null;
  html: string | null;
  attachments: Attachment[];
  headers: HeaderField[];
  /** Only what the person wrote: quotes, signatures and client boilerplate removed. */
  reply: { text: string; signature: string | null };
  thread: { id: string };
  /** Human-readable descriptions of what was malformed or truncated; empty for clean mail. */
  problems: string[];
}

/** Limits checked before a message can exhaust memory or time. */
export interface ParseLimits {
  /** @default 1000 */
  maxParts?: number;
  /** @default 32 */
  maxDepth?: number;
  /** Bytes of the top-level header block. @default 1_048_576 (1 MiB) */
  maxHeaderBytes?: number;
  /** Number of header fields in the top-level header block. @default 2000 */
  maxHeaders?: number;
}
