import type { Attachment } from './types.ts';

/** `cid:` references in HTML (attribute values, CSS `url(...)`), up to a quote, space, `)` or `>`. */
const CID_REFERENCE = /cid:([^"'\s)>]{1,998})/gi;
/** References looked at at most (a hostile body may hold millions). */
const MAX_REFERENCES = 10_000;

function bareContentId(contentId: string): string {
  const id = contentId.trim();
  return (id.startsWith('<') && id.endsWith('>') ? id.slice(1, -1) : id).toLowerCase();
}

function decoded(reference: string): string {
  try {
    return decodeURIComponent(reference);
  } catch {
    return reference;
  }
}

/**
 * Sets `related` on every attachment whose Content-ID the HTML references as `cid:<id>` (RFC 2392:
 * compared without angle brackets, case-insensitively, percent-escapes decoded). Linear in the HTML.
 */
export function markRelated(attachments: Attachment[], html: string | null): void {
  if (html === null || attachments.every((a) => a.contentId === null)) return;
  const referenced = new Set<string>();
  let count = 0;
  for (const match of html.matchAll(CID_REFERENCE)) {
    const reference = match[1]!;
    referenced.add(reference.toLowerCase());
    referenced.add(decoded(reference).toLowerCase());
    if (++count >= MAX_REFERENCES) break;
  }
  for (const attachment of attachments) {
    if (attachment.contentId !== null)
      attachment.related = referenced.has(bareContentId(attachment.contentId));
  }
}
