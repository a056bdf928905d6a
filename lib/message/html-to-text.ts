/**
 * A small, linear-time HTML to plain text converter for reply extraction: block elements become line
 * breaks, `<blockquote>` content is prefixed with `> ` per level, scripts, styles and comments are
 * dropped, and the common entities are decoded. Elements that mail clients use to wrap the quoted
 * original (Gmail's `gmail_quote`, Outlook's `divRplyFwdMsg`/`appendonsend`, Thunderbird's
 * `moz-cite-prefix`, Yahoo's `yahoo_quoted`, …) start a line holding {@link QUOTE_MARKER} when
 * `markQuotes` is set, so the caller can cut there.
 */

/** Line content emitted where a client's quote container starts (a private-use character). */
export const QUOTE_MARKER = '\uE000quote\uE000';

const BLOCK = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'br',
  'center',
  'dd',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figure',
  'footer',
  'form',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'header',
  'hr',
  'li',
  'main',
  'nav',
  'ol',
  'p',
  'pre',
  'section',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'tr',
  'ul',
]);
const SKIP_CONTENT = new Set(['script', 'style', 'head', 'title', 'template', 'noscript', 'xml']);
const QUOTE_IDS = new Set([
  'divrplyfwdmsg',
  'appendonsend',
  'olk_src_body_section',
  'mail-editor-reference-message-container',
]);
const QUOTE_CLASSES = new Set([
  'gmail_quote',
  'gmail_quote_container',
  'yahoo_quoted',
  'moz-cite-prefix',
  'protonmail_quote',
  'zmail_extra',
  'outlookmessageheader',
  'applemailquote',
  'mailbox_quote',
]);

const ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ensp: ' ',
  emsp: ' ',
  thinsp: ' ',
  zwnj: '',
  zwj: '',
  shy: '',
  copy: '©',
  reg: '®',
  trade: '™',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  lsquo: '‘',
  rsquo: '’',
  sbquo: '‚',
  ldquo: '“',
  rdquo: '”',
  bdquo: '„',
  laquo: '«',
  raquo: '»',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  sect: '§',
  para: '¶',
  middot: '·',
  bull: '•',
  deg: '°',
  times: '×',
  divide: '÷',
  iexcl: '¡',
  iquest: '¿',
  auml: 'ä',
  ouml: 'ö',
  uuml: 'ü',
  Auml: 'Ä',
  Ouml: 'Ö',
  Uuml: 'Ü',
  szlig: 'ß',
  eacute: 'é',
  egrave: 'è',
  ecirc: 'ê',
  Eacute: 'É',
  aacute: 'á',
  agrave: 'à',
  acirc: 'â',
  ccedil: 'ç',
  iacute: 'í',
  oacute: 'ó',
  uacute: 'ú',
  ntilde: 'ñ',
  Ntilde: 'Ñ',
};

/** Decodes character references; unknown named ones are left as written. */
export function decodeEntities(text: string): string {
  if (text.indexOf('&') < 0) return text;
  return text.replace(
    /&(#[xX][0-9a-fA-F]{1,6}|#\d{1,7}|[A-Za-z][A-Za-z0-9]{1,31});?/g,
    (whole, ref: string) => {
      if (ref.startsWith('#')) {
        const code =
          ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
        if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\uFFFD';
        return String.fromCodePoint(code);
      }
      return ENTITIES[ref] ?? whole;
    },
  );
}

const ATTRIBUTE_PATTERNS: Readonly<Record<'id' | 'class' | 'alt', RegExp>> = {
  id: /\sid\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i,
  class: /\sclass\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i,
  alt: /\salt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i,
};

function attribute(tag: string, name: 'id' | 'class' | 'alt'): string | null {
  if (tag.length < 4 || !tag.toLowerCase().includes(name)) return null;
  const m = ATTRIBUTE_PATTERNS[name].exec(tag);
  return m ? (m[1] ?? m[2] ?? m[3] ?? '') : null;
}

function startsQuote(tagName: string, tag: string): boolean {
  if (tagName !== 'div' && tagName !== 'blockquote' && tagName !== 'span' && tagName !== 'section')
    return false;
  const id = attribute(tag, 'id');
  if (id && QUOTE_IDS.has(id.toLowerCase())) return true;
  const cls = attribute(tag, 'class');
  if (cls) {
    for (const c of cls.toLowerCase().split(/\s+/)) if (QUOTE_CLASSES.has(c)) return true;
  }
  return false;
}

/** Options for {@link htmlToText}. */
export interface HtmlToTextOptions {
  /** Emit a {@link QUOTE_MARKER} line where a mail client's quote container starts. */
  markQuotes?: boolean;
}

/**
 * Converts HTML to plain text. Linear in the input; never throws.
 *
 * @param html - The HTML source.
 * @param options - See {@link HtmlToTextOptions}.
 */
export function htmlToText(html: string, options: HtmlToTextOptions = {}): string {
  const lines: string[] = [];
  let line = '';
  let quoteDepth = 0;
  let pre = 0;
  let skipUntil: string | null = null;
  let pos = 0;

  const breakLine = (): void => {
    const content = line.trimEnd();
    lines.push(content ? '> '.repeat(quoteDepth) + content : quoteDepth > 0 ? '>'.repeat(quoteDepth) : '');
    line = '';
  };
  const softBreak = (): void => {
    if (line.trim()) breakLine();
    else line = '';
  };
  const addText = (raw: string): void => {
    let text = decodeEntities(raw);
    if (pre > 0) {
      const parts = text.split(/\r?\n/);
      parts.forEach((part, i) => {
        if (i > 0) breakLine();
        line += part;
      });
      return;
    }
    text = text.replace(/[\s\u00a0]+/g, ' ');
    if (text.startsWith(' ') && (line === '' || line.endsWith(' '))) text = text.slice(1);
    line += text;
  };

  while (pos < html.length) {
    const lt = html.indexOf('<', pos);
    if (skipUntil !== null) {
      const closer = new RegExp(`</${skipUntil}`, 'ig');
      closer.lastIndex = pos;
      const close = closer.exec(html);
      pos = close ? close.index : html.length;
      skipUntil = null;
      continue;
    }
    if (lt < 0) {
      addText(html.slice(pos));
      break;
    }
    if (lt > pos) addText(html.slice(pos, lt));
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      pos = end < 0 ? html.length : end + 3;
      continue;
    }
    const gt = html.indexOf('>', lt + 1);
    if (gt < 0) {
      addText(html.slice(lt));
      break;
    }
    const tag = html.slice(lt, gt + 1);
    const m = /^<(\/?)([A-Za-z][A-Za-z0-9:-]{0,31})/.exec(tag);
    pos = gt + 1;
    if (!m) {
      if (!/^<[!?]/.test(tag)) addText(tag);
      continue;
    }
    const closing = m[1] === '/';
    const name = m[2]!.toLowerCase();
    if (!closing && SKIP_CONTENT.has(name) && !tag.endsWith('/>')) {
      skipUntil = name;
      continue;
    }
    if (name === 'br') {
      breakLine();
      continue;
    }
    if (name === 'blockquote') {
      softBreak();
      if (!closing && options.markQuotes && startsQuote(name, tag)) lines.push(QUOTE_MARKER);
      quoteDepth = closing ? Math.max(0, quoteDepth - 1) : Math.min(quoteDepth + 1, 64);
      continue;
    }
    if (name === 'pre') pre = closing ? Math.max(0, pre - 1) : pre + 1;
    if (!closing && options.markQuotes && startsQuote(name, tag)) {
      softBreak();
      lines.push(QUOTE_MARKER);
      continue;
    }
    if (name === 'hr' && !closing) {
      softBreak();
      lines.push('________________________________');
      continue;
    }
    if (BLOCK.has(name)) {
      softBreak();
      if ((name === 'p' || name === 'h1' || name === 'h2' || name === 'h3') && closing) lines.push('');
      continue;
    }
    if (name === 'img' && !closing) {
      const alt = attribute(tag, 'alt');
      if (alt) addText(alt);
    }
  }
  softBreak();
  // collapse runs of blank lines
  const out: string[] = [];
  for (const l of lines) {
    if (l === '' && (out.length === 0 || out[out.length - 1] === '')) continue;
    out.push(l);
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.join('\n');
}
