/**
 * Where the body parse writes each attachment's decoded bytes while it decodes them. The shape of
 * lib/store's `AttachmentStore` (content-addressed by SHA-256): a store is a sink as it is, structurally
 * (lib/message imports nothing from lib/store).
 */
export interface AttachmentSink {
  begin(): AttachmentSinkUpload;
}

/** One attachment being written: chunks in order, then `commit` with the SHA-256 of all of them, or `abort`. */
export interface AttachmentSinkUpload {
  /** Resolves when the next chunk may follow (back-pressure: the parser waits for it). */
  write(chunk: Buffer): Promise<void>;
  commit(sha256: string): Promise<{ created: boolean; size: number }>;
  /** Drops what was written; never throws. */
  abort(): Promise<void>;
}

/** What is known of an attachment when its part begins: what decides whether its content is kept. */
export interface AttachmentInfo {
  /** Its index in `ParsedMessage.attachments`. */
  index: number;
  filename: string | null;
  contentType: string;
  contentId: string | null;
  disposition: string | null;
}

/** How `parseMessage` keeps attachment content (see {@link AttachmentSink}). */
export interface AttachmentExtraction {
  sink: AttachmentSink;
  /** Whether to keep this one's content. @default every attachment */
  keep?: (info: AttachmentInfo) => boolean;
  /** Decoded bytes kept at most; a larger attachment is described (size, hash) but not kept. @default no limit */
  maxSize?: number;
}

/** What `parseMessage` can do besides parsing. */
export interface ParseOptions {
  /** Stream each attachment's decoded content into a sink during the parse. @default content not kept */
  attachments?: AttachmentExtraction;
}
