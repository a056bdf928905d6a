import { HttpError } from './errors.ts';

// `POST /api/compose`: a test message as JSON, checked field by field, built into MIME by nodemailer.

/** Most attachments one composed message may carry. */
export const MAX_COMPOSE_ATTACHMENTS = 20;

export interface ComposeAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

/** A compose request once every field is checked. */
export interface ComposeRequest {
  from: { name: string; address: string };
  to: string[];
  cc: string[];
  subject: string;
  text?: string;
  html?: string;
  attachments: ComposeAttachment[];
}

const FIELDS = ['from', 'to', 'cc', 'subject', 'text', 'html', 'attachments'];
const ATTACHMENT_FIELDS = ['filename', 'contentType', 'contentBase64'];
const MAX_LINE = 998;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** The same address shape `POST /api/messages?to=` takes (see envelope-params.ts). */
const ADDRESS =
  /^(?:[^\s"@<>()[\]\\,;:]+|"(?:[^"\\]|\\.)*")@(?:[^\s"@<>()[\]\\,;:.]+(?:\.[^\s"@<>()[\]\\,;:.]+)*|\[[A-Za-z0-9:.]+\])$/;
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const bad = (field: string, why: string) => new HttpError(400, `${field}: ${why}`);

function headerText(value: unknown, field: string): string {
  if (typeof value !== 'string') throw bad(field, 'must be a string');
  if (value.length > MAX_LINE) throw bad(field, `is longer than ${MAX_LINE} characters`);
  if (CONTROL.test(value)) throw bad(field, 'contains a control character (CR, LF, NUL…)');
  return value;
}

function address(value: unknown, field: string): string {
  const text = headerText(value, field).trim();
  if (!ADDRESS.test(text)) throw bad(field, `${JSON.stringify(text)} is not an address local@domain`);
  return text;
}

/** `ada@x.test` or `Ada Lovelace <ada@x.test>`. */
function mailbox(value: unknown, field: string): { name: string; address: string } {
  const text = headerText(value, field).trim();
  const open = text.lastIndexOf('<');
  if (open === -1 || !text.endsWith('>')) return { name: '', address: address(text, field) };
  const name = text
    .slice(0, open)
    .trim()
    .replace(/^"(.*)"$/, '$1');
  return { name, address: address(text.slice(open + 1, -1), field) };
}

function addressList(value: unknown, field: string): string[] {
  const list = typeof value === 'string' ? value.split(',').filter((s) => s.trim() !== '') : value;
  if (!Array.isArray(list)) throw bad(field, 'must be a list of addresses');
  return list.map((one, i) => mailbox(one, `${field}[${i}]`).address);
}

function body(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw bad(field, 'must be a string');
  return value;
}

/** A filename without directories, control characters or quotes, at most 200 characters. */
export function sanitizeFilename(name: string): string {
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  const clean = [...base]
    .filter((ch) => !CONTROL.test(ch) && ch !== '"')
    .join('')
    .trim()
    .replace(/^\.+/, '')
    .slice(0, 200)
    .trim();
  return clean === '' ? 'attachment' : clean;
}

function attachment(value: unknown, field: string): ComposeAttachment {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw bad(field, 'must be an object {filename, contentType, contentBase64}');
  }
  const a = value as Record<string, unknown>;
  for (const key of Object.keys(a)) {
    if (!ATTACHMENT_FIELDS.includes(key))
      throw bad(`${field}.${key.slice(0, 50)}`, `unknown field (use ${ATTACHMENT_FIELDS.join(', ')})`);
  }
  if (typeof a.filename !== 'string') throw bad(`${field}.filename`, 'must be a string');
  const contentType = a.contentType === undefined ? 'application/octet-stream' : a.contentType;
  if (typeof contentType !== 'string' || !MEDIA_TYPE.test(contentType)) {
    throw bad(`${field}.contentType`, 'must be a media type such as image/png');
  }
  if (typeof a.contentBase64 !== 'string') throw bad(`${field}.contentBase64`, 'must be a base64 string');
  const base64 = a.contentBase64.replace(/[\r\n ]/g, '');
  if (base64.length % 4 !== 0 || !BASE64.test(base64)) throw bad(`${field}.contentBase64`, 'is not base64');
  return {
    filename: sanitizeFilename(a.filename),
    contentType: contentType.toLowerCase(),
    content: Buffer.from(base64, 'base64'),
  };
}

/**
 * Checks a compose request: every field named in the 400 that refuses it.
 * @param maxRecipients the SMTP limit: To and Cc together.
 */
export function parseComposeRequest(json: unknown, maxRecipients: number): ComposeRequest {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new HttpError(400, 'the body must be a JSON object {from, to, subject, text, html, attachments}');
  }
  const input = json as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!FIELDS.includes(key)) throw bad(key.slice(0, 50), `unknown field (use ${FIELDS.join(', ')})`);
  }
  const to = addressList(input.to, 'to');
  const cc = input.cc === undefined ? [] : addressList(input.cc, 'cc');
  if (to.length === 0) throw bad('to', 'give at least one recipient');
  if (to.length + cc.length > maxRecipients)
    throw bad('to', `at most ${maxRecipients} recipients (to and cc)`);
  const attachments = input.attachments ?? [];
  if (!Array.isArray(attachments)) throw bad('attachments', 'must be a list');
  if (attachments.length > MAX_COMPOSE_ATTACHMENTS) {
    throw bad('attachments', `at most ${MAX_COMPOSE_ATTACHMENTS} attachments`);
  }
  const request: ComposeRequest = {
    from: mailbox(input.from, 'from'),
    to,
    cc,
    subject: input.subject === undefined ? '' : headerText(input.subject, 'subject'),
    attachments: attachments.map((a, i) => attachment(a, `attachments[${i}]`)),
  };
  const text = body(input.text, 'text');
  const html = body(input.html, 'html');
  if (text !== undefined) request.text = text;
  if (html !== undefined) request.html = html;
  return request;
}

/** The MIME message of a checked request (nodemailer's MailComposer: no file or URL access). */
export async function composeMime(request: ComposeRequest): Promise<Buffer> {
  const { default: MailComposer } = await import('nodemailer/lib/mail-composer');
  const composer = new MailComposer({
    from: request.from,
    to: request.to,
    cc: request.cc.length > 0 ? request.cc : undefined,
    subject: request.subject,
    text: request.text,
    html: request.html,
    attachments: request.attachments.map((a) => ({
      filename: a.filename,
      content: a.content,
      contentType: a.contentType,
    })),
    disableFileAccess: true,
    disableUrlAccess: true,
    newline: 'windows',
  });
  return composer.compile().build();
}
