/**
 * Message-ID handling. Convention (used for `messageId`, `inReplyTo` and `references`): an id is kept
 * exactly as the header wrote it between its angle brackets, and always carries the brackets
 * (`<abc@example.com>`), as mailparser does. An id written without brackets gets them added; whitespace
 * and comments around ids are dropped.
 */

const BRACKETED = /<([^<>\s]{0,998})>/g;
const MAX_IDS = 1000;

function stripComments(value: string): string {
  // comments are rare in id headers; drop simple non-nested ones
  return value.indexOf('(') < 0 ? value : value.replace(/\([^()]{0,1000}\)/g, ' ');
}

/** All message ids in a header value (References, In-Reply-To), in order, at most 1000. */
export function parseMessageIds(value: string): string[] {
  const text = stripComments(value);
  const ids: string[] = [];
  for (const match of text.matchAll(BRACKETED)) {
    if (match[1]) ids.push(`<${match[1]}>`);
    if (ids.length >= MAX_IDS) return ids;
  }
  if (ids.length > 0) return ids;
  // no brackets at all: whitespace-separated tokens that look like ids
  for (const token of text.split(/[\s,]+/)) {
    const bare = token.replace(/^<|>$/g, '');
    if (bare.includes('@') && bare.length <= 998) ids.push(`<${bare}>`);
    if (ids.length >= MAX_IDS) break;
  }
  return ids;
}

/** The first message id of a header value, or null when there is none. */
export function parseMessageId(value: string): string | null {
  const [first] = parseMessageIds(value);
  if (first) return first;
  const token = stripComments(value).trim().split(/\s+/)[0] ?? '';
  const bare = token.replace(/^<|>$/g, '');
  return bare && bare.length <= 998 ? `<${bare}>` : null;
}
