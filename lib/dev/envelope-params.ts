import { HttpError } from './errors.ts';

/** RFC 5322's line limit: longer is never a real address, only an attempt at something else. */
const MAX_PARAM = 998;
/** C0, DEL, C1 and the Unicode line separators: CR/LF/NUL would inject envelope or header lines. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** A dot-atom (UTF-8 allowed, as SMTPUTF8 does) or a quoted string, `@`, dot-separated labels or a literal. */
const ADDRESS =
  /^(?:[^\s"@<>()[\]\\,;:]+|"(?:[^"\\]|\\.)*")@(?:[^\s"@<>()[\]\\,;:.]+(?:\.[^\s"@<>()[\]\\,;:.]+)*|\[[A-Za-z0-9:.]+\])$/;

/** Checks one raw query value before anything trims it (a trailing CRLF must not be trimmed away). */
function checkRaw(value: string, param: string): void {
  if (value.length > MAX_PARAM) throw new HttpError(400, `${param}= is longer than ${MAX_PARAM} characters`);
  if (CONTROL.test(value)) throw new HttpError(400, `${param}= contains a control character (CR, LF, NUL…)`);
}

function checkShape(address: string, param: string): string {
  if (ADDRESS.test(address)) return address;
  const hint = address.includes(' ') ? ' (a + in a query string means a space: write %2B)' : '';
  throw new HttpError(400, `${param}= is not an address local@domain: ${JSON.stringify(address)}${hint}`);
}

/**
 * The envelope of `POST /api/messages?from=ADDR&to=ADDR[&to=…]`: `from` absent, empty or `<>` is the null
 * sender; `to` may repeat and hold comma-separated addresses. Anything that is not an address shape is a
 * 400, so nothing but an address reaches the envelope, the Received header or a handler.
 */
export function envelopeParams(url: URL): { from: string; to: string[] } {
  const froms = url.searchParams.getAll('from');
  if (froms.length > 1) throw new HttpError(400, 'give at most one from=');
  const rawFrom = froms[0] ?? '';
  checkRaw(rawFrom, 'from');
  const from = rawFrom.trim() === '' || rawFrom.trim() === '<>' ? '' : checkShape(rawFrom.trim(), 'from');
  const to: string[] = [];
  for (const raw of url.searchParams.getAll('to')) {
    checkRaw(raw, 'to');
    for (const one of raw.split(',')) if (one.trim()) to.push(checkShape(one.trim(), 'to'));
  }
  return { from, to };
}
