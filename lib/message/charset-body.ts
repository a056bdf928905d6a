import { Transform, type TransformCallback } from 'node:stream';
import type { MailParser } from 'mailparser';
import { encodingOf } from './charset.ts';
import { type CharsetContext, decodeWithContext, passesAsUtf8 } from './charset-decide.ts';

/**
 * The charset decision for text parts (see charset-decide.ts), hooked into mailparser. mailparser decodes
 * a text part by its declared charset, leaves UTF-8/US-ASCII/missing ones as lossy UTF-8 and refuses
 * UTF-7. Two of its (undocumented, instance-level) hooks are wrapped: `createNode` marks each inline text
 * node's charset so that every text part reaches `decoder.decodeStream`, which then returns a
 * {@link PartDecoder} making the decision on the part's bytes. With another mailparser that lacks them,
 * nothing is wrapped and mailparser's own decoding stays.
 */

/**
 * Charsets iconv-lite (mailparser's decoder) knows and the WHATWG TextDecoder does not (DOS and IBM code
 * pages, UTF-32, a few national ones): parts declaring them stay with mailparser's decoding.
 */
const ICONV_ONLY =
  /^(?:cp|ibm|ms|csibm|csPC)?-?(?:437|737|775|85[0-9]|86[0-9]|1125)$|^utf-?32|^ucs-?4|^viscii$|^tcvn|^armscii|^georgian|^pt154$|^rk1048$|^mac(?!intosh$)/i;

/** Prefix of the marked charset; mailparser only compares the charset and hands it to `decodeStream`. */
const MARK = 'x-mailroom-decide:';

interface TextNode {
  contentType?: unknown;
  charset?: unknown;
  isAttachment?: unknown;
}

interface ParserHooks {
  createNode?: (node: unknown) => TextNode;
  decoder?: { decodeStream: (charset: string) => NodeJS.ReadWriteStream };
}

/**
 * Collects a text part's decoded-transfer bytes and emits them decided and re-encoded as UTF-8. Bytes that
 * pass as they are (valid UTF-8, the common case) are emitted in the chunks they came in, so that a big
 * part is not copied whole once more on its way to mailparser, which joins the chunks itself. Its readable
 * side hands them out one per `read()` (object mode): mailparser reads with `read()`, which in byte mode
 * would join everything buffered into one more copy.
 */
class PartDecoder extends Transform {
  private readonly chunks: Buffer[] = [];

  constructor(
    private readonly declared: string | null,
    private readonly where: string,
    private readonly context: CharsetContext,
  ) {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer | string, _enc: BufferEncoding, done: TransformCallback): void {
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    done();
  }

  override _flush(done: TransformCallback): void {
    const chunks = this.chunks.splice(0);
    if (passesAsUtf8(chunks, this.declared)) {
      for (const chunk of chunks) this.push(chunk);
      done();
      return;
    }
    const bytes = Buffer.concat(chunks);
    const text = decodeWithContext(bytes, this.declared, 'body', this.where, this.context);
    done(null, Buffer.from(text, 'utf8'));
  }
}

/** Makes `parser` decide the charset of each inline text part with `context`. */
export function decideBodyCharsets(parser: MailParser, context: CharsetContext): void {
  const hooks = parser as unknown as ParserHooks;
  const createNode = hooks.createNode;
  const decoder = hooks.decoder;
  if (typeof createNode !== 'function' || typeof decoder?.decodeStream !== 'function') return;
  let parts = 0;
  hooks.createNode = function (this: unknown, node: unknown): TextNode {
    const created = createNode.call(this, node);
    const type = typeof created.contentType === 'string' ? created.contentType : '';
    if (created.isAttachment === false && !type.startsWith('multipart/')) {
      const declared = typeof created.charset === 'string' ? created.charset : '';
      if (ICONV_ONLY.test(declared.trim()) && !encodingOf(declared)) return created;
      created.charset = `${MARK}${++parts}:${type}:${declared}`;
    }
    return created;
  };
  const original = decoder.decodeStream.bind(decoder);
  hooks.decoder = {
    decodeStream(charset: string) {
      if (!charset.startsWith(MARK)) return original(charset);
      const [n = '', type = '', ...rest] = charset.slice(MARK.length).split(':');
      const declared = rest.join(':');
      return new PartDecoder(declared || null, `body part ${n} (${type || 'text/plain'})`, context);
    },
  };
}
