import { normalizeAuthservId } from './authserv-id.ts';
import type { AuthVerdicts } from './verdicts.ts';

/** Longest comment kept in a resinfo; longer ones are cut. */
const MAX_COMMENT = 200;

/**
 * The RFC 8601 `Authentication-Results:` header field for `verdicts`, under our authserv-id, folded with
 * one method per line and ending in CRLF, ready to prepend to the stored message:
 *
 * ```
 * Authentication-Results: mx.example.com;
 *  spf=pass smtp.mailfrom=ada@sender.test smtp.helo=mail.sender.test;
 *  dkim=pass header.d=sender.test header.s=sel1 header.a=rsa-sha256;
 *  dmarc=pass (p=reject) header.from=sender.test;
 *  arc=none
 * ```
 *
 * `dkim=none` stands for an unsigned message; ARC is left out when it was not evaluated (SES); spam and
 * virus verdicts have no RFC 8601 method and are not written. Every value that came from the sender is
 * reduced to characters that cannot break the header (no CR, LF or other controls; quoted when needed).
 * @throws AuthConfigError when `authservId` is not a host name.
 */
export function authenticationResultsHeader(verdicts: AuthVerdicts, authservId: string): string {
  const id = normalizeAuthservId(authservId);
  const via = verdicts.source === 'ses' ? ' (verdicts from Amazon SES)' : '';
  const lines: string[] = [];

  const { spf } = verdicts;
  lines.push(
    resinfo('spf', spf.result, spf.comment, [
      ['smtp.mailfrom', spf.mailFrom || (spf.scope === 'mailfrom' ? spf.domain : null)],
      ['smtp.helo', spf.helo],
    ]),
  );

  if (verdicts.dkim.length === 0) lines.push('dkim=none');
  for (const d of verdicts.dkim) {
    lines.push(
      resinfo('dkim', d.result, d.comment, [
        ['header.d', d.domain],
        ['header.s', d.selector],
        ['header.a', d.algorithm ?? null],
      ]),
    );
  }

  const { dmarc } = verdicts;
  lines.push(resinfo('dmarc', dmarc.result, dmarc.comment, [['header.from', dmarc.domain]]));

  if (verdicts.arc) lines.push(resinfo('arc', verdicts.arc.result, verdicts.arc.comment, []));

  return `Authentication-Results: ${id}${via};\r\n ${lines.join(';\r\n ')}\r\n`;
}

function resinfo(
  method: string,
  result: string,
  comment: string | undefined,
  props: Array<[string, string | null | undefined]>,
): string {
  let out = `${method}=${result}`;
  if (comment) out += ` (${commentText(comment)})`;
  for (const [name, value] of props) {
    if (value) out += ` ${name}=${pvalue(value)}`;
  }
  return out;
}

/** Comment text: controls become spaces, `(`, `)` and `\` are escaped, length bounded. */
function commentText(text: string): string {
  const flat = text
    .replace(/[\x00-\x1f\x7f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_COMMENT);
  return flat.replace(/[\\()]/g, (c) => `\\${c}`);
}

/** RFC 8601 pvalue: an address or domain as is when it is plain, else a quoted-string. */
function pvalue(value: string): string {
  const flat = value.replace(/[\x00-\x1f\x7f]+/g, '').slice(0, 320);
  if (
    /^(?:[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@)?[A-Za-z0-9._-]+$/.test(flat)
  ) {
    return flat;
  }
  return `"${flat.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
