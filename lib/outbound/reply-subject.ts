import { headerText } from './header-text.ts';

// A reply prefix (not a forward one) in the languages clients use: Re, AW (de), SV (sv/da/no), VS (fi),
// Antw (nl), Odp (pl), R/Rif (it), Res (pt), Ynt (tr), Atb (lv), ΑΠ (el), Отв (ru), 回复/答复 (zh),
// optionally counted (`RE[2]:`, `Re(3):`), with an ASCII or a full-width colon.
const REPLY_PREFIX =
  /^\s*(?:re|aw|sv|vs|antw|odp|rif|r|res|ynt|atb|svar|απ|отв|回复|答复)\s*(?:\[\d{1,4}\]|\(\d{1,4}\))?\s*[:：]/i;

/**
 * The subject of a reply: `Re: ` + the original subject, unless it already starts with a reply prefix
 * (`Re:`, `RE:`, `AW:`, `SV:`, `RE[2]:`, …), in which case it is kept as it is. At most 900 characters.
 */
export function replySubject(original: string | null): string {
  const subject = headerText(original ?? '')
    .trim()
    .slice(0, 900);
  if (REPLY_PREFIX.test(subject)) return subject;
  return subject ? `Re: ${subject}` : 'Re:';
}
