import type { Attachment } from '../../message/index.ts';
import { HttpError } from '../errors.ts';
import type { RouteHandler } from './context.ts';

/** Where a `cid:` URL ends: quotes, whitespace, brackets and the characters that close a CSS url(). */
const CID_END = new Set([...'"\'`<>()\\ \t\r\n\f;,']);
/** No Content-ID is longer (RFC 5322 line length): a longer run is not one and is left as it is. */
const MAX_CID = 998;

function decodedCid(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * Rewrites `cid:` references (RFC 2392) to the URL of the attachment with that Content-ID, in one pass
 * over the text: linear in the size of the HTML whatever it holds. References to no attachment stay.
 */
export function rewriteCidReferences(html: string, attachments: readonly Attachment[], base: string): string {
  const byCid = new Map<string, number>();
  attachments.forEach((a, n) => {
    const cid = a.contentId?.replace(/^<|>$/g, '').trim();
    if (cid && !byCid.has(cid)) byCid.set(cid, n);
    if (cid && !byCid.has(cid.toLowerCase())) byCid.set(cid.toLowerCase(), n);
  });
  if (byCid.size === 0) return html;
  const scheme = /cid:/gi; // a literal: found without backtracking
  const out: string[] = [];
  let copied = 0;
  let found = scheme.exec(html);
  while (found !== null) {
    const at = found.index;
    let end = at + 4;
    const limit = Math.min(html.length, end + MAX_CID);
    while (end < limit && !CID_END.has(html[end]!)) end++;
    const cid = decodedCid(html.slice(at + 4, end));
    const n = byCid.get(cid) ?? byCid.get(cid.toLowerCase());
    if (n !== undefined && end > at + 4) {
      out.push(html.slice(copied, at), `${base}/${n}`);
      copied = end;
    }
    scheme.lastIndex = Math.max(end, at + 4);
    found = scheme.exec(html);
  }
  out.push(html.slice(copied));
  return out.join('');
}

/** The CSP of a message's HTML: no scripts ever, its own opaque origin; remote loads only when asked. */
function htmlPolicy(remote: boolean, origin: string): string {
  const remoteSources = remote ? ' https: http:' : '';
  return [
    'sandbox',
    "default-src 'none'",
    // The origin spelled out too: in the sandbox's opaque origin some browsers match nothing to 'self'.
    `img-src data: 'self' ${origin}${remoteSources}`,
    `style-src 'unsafe-inline'${remoteSources}`,
    `font-src data:${remoteSources}`,
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/**
 * `GET /api/messages/:id/html[?remote=1]`: the message's HTML body, sandboxed (no scripts, no forms, its own
 * opaque origin), `cid:` images pointing at its attachments. Remote images, styles and fonts load only with
 * `remote=1`, so that a message cannot tell its sender it was read unless the reader allows it.
 */
export const getHtml: RouteHandler = async (deps, req, res, url, m) => {
  const id = m[1]!;
  const message = await deps.store.getMessage(id);
  if (!message) throw new HttpError(404, `no message ${id}`);
  const body = message.parsed?.html;
  if (body == null) throw new HttpError(404, `message ${id} has no HTML body`);
  const remote = url.searchParams.get('remote') === '1';
  const html = rewriteCidReferences(
    body,
    message.parsed?.attachments ?? [],
    `/api/messages/${id}/attachments`,
  );
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    // The Host passed checkHost: a loopback or configured name, in the shape a Host header may take.
    'content-security-policy': htmlPolicy(remote, `http://${req.headers.host ?? 'localhost'}`),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
  });
  res.end(html);
};
