/**
 * The attachment policy: which parts are listed in `attachments` and how, to match what Gmail, Apple Mail
 * and Thunderbird show (README, "Attachment policy"). mailparser makes the first cut (every non-text leaf
 * and every part with `Content-Disposition: attachment` is an attachment; `text/plain` and `text/html`
 * leaves are body text); this module adds:
 *
 * 1. A text part with a filename is an attachment, not body text, unless it is the message body: the
 *    first text part, or the first text/plain or text/html in the `multipart/alternative` /
 *    `multipart/related` that holds the first text part ({@link applyTextAttachmentRule}).
 * 2. A `message/rfc822` part without a filename is named after its Subject, `<Subject>.eml`, or
 *    `message.eml` when it has none ({@link nameEmbeddedMessage}).
 *
 * Inline resources are told apart by `related` (set by `markRelated`): true when the HTML body references
 * the part as `cid:<Content-ID>` (clients show it in the body and do not list it), false otherwise (listed
 * as an attachment, whatever its disposition or the multipart it sits in).
 */
import type { AttachmentStream, MailParser } from 'mailparser';
import { decodeEncodedWords } from './encoded-words.ts';
import { readHeaderBlock } from './header-block.ts';
import { safeFilename } from './safe-filename.ts';
import type { Attachment } from './types.ts';

/** The part of a mailparser tree node this module reads or sets (mailparser's internal node shape). */
interface TreeNode {
  contentType?: unknown;
  isAttachment?: unknown;
  parent?: TreeNode;
}

/** What mailparser's splitter hands to `createNode` (a MIME node of mailsplit). */
interface SplitNode {
  filename?: unknown;
}

type CreateNode = (this: unknown, data: SplitNode) => TreeNode;

const BODY_TEXT = new Set(['text/plain', 'text/html']);
const BODY_CONTAINER = /^multipart\/(?:alternative|related)$/i;

/** The outermost `multipart/alternative` or `multipart/related` run right above `node`, or null. */
function bodyContainer(node: TreeNode): TreeNode | null {
  let container: TreeNode | null = null;
  let depth = 0;
  for (let p = node.parent; p && depth < 64; p = p.parent, depth++) {
    if (typeof p.contentType !== 'string' || !BODY_CONTAINER.test(p.contentType)) break;
    container = p;
  }
  return container;
}

function isInside(node: TreeNode, container: TreeNode): boolean {
  let depth = 0;
  for (let p = node.parent; p && depth < 1024; p = p.parent, depth++) if (p === container) return true;
  return false;
}

/**
 * Rule 1: makes mailparser stream a text part with a filename as an attachment (size and SHA-256 of its
 * transfer-decoded bytes, storable like any attachment) unless it is the body: the first text leaf of
 * the message, or the first of its type (text/plain, text/html) in the `multipart/alternative` /
 * `multipart/related` run that holds that leaf (the other rendering of the same body).
 * Hooks the parser's node creation (decided before the part's content is read); does nothing when the
 * parser has no such hook.
 */
export function applyTextAttachmentRule(parser: MailParser): void {
  const target = parser as unknown as { createNode?: CreateNode };
  const original = target.createNode;
  if (typeof original !== 'function') return;
  let first: TreeNode | null = null;
  let container: TreeNode | null = null;
  const seen = new Set<string>();
  target.createNode = function createNode(this: unknown, data: SplitNode): TreeNode {
    const node = original.call(this, data);
    const type = typeof node.contentType === 'string' ? node.contentType.toLowerCase() : '';
    if (!BODY_TEXT.has(type) || node.isAttachment === true) return node;
    if (first === null) {
      first = node;
      container = bodyContainer(node);
    } else {
      const named = typeof data.filename === 'string' && data.filename.trim() !== '';
      const body = !seen.has(type) && container !== null && isInside(node, container);
      if (named && !body) {
        node.isAttachment = true;
        return node;
      }
    }
    seen.add(type);
    return node;
  };
}

/** Bytes of an embedded message read for its Subject at most. */
const MAX_EMBEDDED_HEAD = 64 * 1024;

/** Where the header block in `head` ends (the blank line), or the whole buffer when none is found. */
function headerEnd(head: Buffer): number {
  const lf = head.indexOf('\n\n');
  const crlf = head.indexOf('\r\n\r\n');
  if (lf >= 0 && (crlf < 0 || lf < crlf)) return lf + 1;
  return crlf >= 0 ? crlf + 2 : head.length;
}

/** `<Subject>.eml` for the header block at the start of `head`, or `message.eml`. */
export function embeddedMessageName(head: Buffer): string {
  const block = readHeaderBlock(head, 0, headerEnd(head), 500, MAX_EMBEDDED_HEAD);
  const field = block.fields.find((f) => f.key === 'subject');
  const subject = field ? decodeEncodedWords(field.raw).text.replace(/\s+/g, ' ').trim() : '';
  // a slash in a Subject is not a directory: kept visible as `_` rather than cut by safeFilename
  const stem = subject.slice(0, 200).replace(/[/\\]/g, '_');
  return stem ? safeFilename(`${stem}.eml`, 'message.eml') : 'message.eml';
}

/**
 * Rule 2: for a `message/rfc822` part without a filename, reads the first 64 KiB of its content as it
 * passes to the collector and, once it has ended, sets `entry.filename` to {@link embeddedMessageName}.
 */
export function nameEmbeddedMessage(data: AttachmentStream, entry: Attachment): void {
  if (entry.filename !== null || entry.contentType.split(';')[0]!.trim() !== 'message/rfc822') return;
  const source = data.content as unknown as AsyncIterable<Buffer | string>;
  const head: Buffer[] = [];
  let bytes = 0;
  async function* passThrough(): AsyncGenerator<Buffer | string> {
    try {
      for await (const chunk of source) {
        if (bytes < MAX_EMBEDDED_HEAD) {
          const b = typeof chunk === 'string' ? Buffer.from(chunk, 'binary') : chunk;
          head.push(b.subarray(0, MAX_EMBEDDED_HEAD - bytes));
          bytes += Math.min(b.length, MAX_EMBEDDED_HEAD - bytes);
        }
        yield chunk;
      }
    } finally {
      entry.filename = embeddedMessageName(Buffer.concat(head));
    }
  }
  (data as { content: unknown }).content = passThrough();
}
