import { createHash } from 'node:crypto';
import { type AttachmentStream, MailParser, type MessageText, type StructuredHeader } from 'mailparser';
import type { Attachment } from './types.ts';

/** What mailparser made of the body, collected without buffering attachment content. */
export interface BodyParse {
  text: string | null;
  html: string | null;
  attachments: Attachment[];
  /** Why parsing stopped early (mailparser error), or null. */
  error: string | null;
  /** Whether the time budget ran out before mailparser finished. */
  timedOut: boolean;
}

/** Options for {@link parseBody}. */
export interface BodyParseOptions {
  /** Per-part header size mailparser accepts (its own limit; ours is applied before). */
  maxHeadSize: number;
  /** MIME nodes mailparser accepts (its own limit; ours is applied before). */
  maxChildNodes: number;
  /** Wall-clock budget; when it runs out the parser is destroyed and what was collected is returned. */
  budgetMs: number;
}

function declaredType(attachment: AttachmentStream): string {
  const header = attachment.headers.get('content-type') as StructuredHeader | undefined;
  const value = header && typeof header === 'object' && 'value' in header ? header.value : '';
  return (
    typeof value === 'string' && value.trim() ? value : attachment.contentType || 'application/octet-stream'
  )
    .trim()
    .toLowerCase();
}

/**
 * Runs mailparser's streaming parser over `input` and collects text, HTML and attachment metadata
 * (size and SHA-256 of the decoded content, computed while streaming; content is not kept). Resolves,
 * never rejects: a parser error or the time budget running out is reported in the result, with whatever
 * was collected until then.
 */
export function parseBody(input: Buffer, options: BodyParseOptions): Promise<BodyParse> {
  return new Promise<BodyParse>((resolve) => {
    const result: BodyParse = { text: null, html: null, attachments: [], error: null, timedOut: false };
    let settled = false;
    let parser: MailParser | null = null;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const timer = setTimeout(() => {
      if (settled) return;
      result.timedOut = true;
      try {
        parser?.destroy();
      } catch {
        // already gone
      }
      finish();
    }, options.budgetMs);
    try {
      parser = new MailParser({
        skipHtmlToText: true,
        skipTextToHtml: true,
        skipImageLinks: true,
        checksumAlgo: false,
        // Embedded messages stay attachments (message/rfc822): mailparser hangs on an inline one
        // that is empty, and a forwarded message is better handled as the attachment it is.
        ignoreEmbedded: true,
        maxHeadSize: options.maxHeadSize,
        maxChildNodes: options.maxChildNodes,
      });
      const p = parser;
      p.on('error', (err: unknown) => {
        result.error ??= err instanceof Error ? err.message : String(err);
        finish();
      });
      p.on('data', (data: AttachmentStream | MessageText) => {
        if (data.type === 'text') {
          if (typeof data.text === 'string') result.text = data.text;
          if (typeof data.html === 'string') result.html = data.html;
          return;
        }
        collectAttachment(data, result, () => settled);
      });
      p.on('end', finish);
      p.end(input);
    } catch (err) {
      result.error ??= err instanceof Error ? err.message : String(err);
      finish();
    }
  });
}

function collectAttachment(data: AttachmentStream, result: BodyParse, isSettled: () => boolean): void {
  const hash = createHash('sha256');
  let size = 0;
  const entry: Attachment = {
    filename: data.filename ?? null,
    contentType: declaredType(data),
    size: 0,
    sha256: '',
    contentId: data.contentId ?? null,
    disposition: data.contentDisposition ? data.contentDisposition.toLowerCase() : null,
  };
  const release = (): void => {
    if (typeof data.release === 'function') data.release();
  };
  data.content.on('data', (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'binary') : chunk;
    size += bytes.length;
    hash.update(bytes);
  });
  data.content.once('end', () => {
    if (isSettled()) return;
    entry.size = size;
    entry.sha256 = hash.digest('hex');
    result.attachments.push(entry);
    release();
  });
  data.content.once('error', (err: unknown) => {
    result.error ??= `attachment stream failed: ${err instanceof Error ? err.message : String(err)}`;
    release();
  });
}
