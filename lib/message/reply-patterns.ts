/**
 * Line patterns for reply extraction: attribution lines ("On … wrote:" in many languages), client
 * separators ("-----Original Message-----"), Outlook-style header blocks, mobile boilerplate and rule
 * lines. Every pattern here is applied to one line (or a join of at most a few short lines) of bounded
 * length, and none has nested quantifiers, so a hostile line costs at most linear-times-a-constant time.
 */

/** Lines longer than this are never treated as attribution, header or boilerplate lines. */
export const MAX_PATTERN_LINE = 600;
/** A multi-line attribution joined from several lines is at most this long. */
export const MAX_ATTRIBUTION = 500;

/** Invisible characters that clients leave on otherwise empty lines (U+1427 is Gmail's tracking mark). */
const INVISIBLE = /[\u1427\u200b-\u200f\u2060\ufeff\u00ad]/g;
const HAS_INVISIBLE = new RegExp(INVISIBLE.source);

/**
 * A line of only whitespace and {@link INVISIBLE} characters. Decided by its first character that is not
 * whitespace when that one is visible (most lines), without copying the line.
 */
export function isBlank(line: string): boolean {
  const t = line.trim();
  if (t === '') return true;
  return HAS_INVISIBLE.test(t[0]!) && t.replace(INVISIBLE, '').trim() === '';
}

/** `\s` is the whitespace `String.prototype.trim` removes (ECMAScript WhiteSpace and LineTerminator). */
const SPACE = /\s/;

/** Whether the line, trailing whitespace aside, ends with a colon (`:` or the full-width `：`); no copy. */
export function endsWithColon(line: string): boolean {
  let k = line.length - 1;
  while (k >= 0 && SPACE.test(line[k]!)) k--;
  const c = line.charCodeAt(k);
  return c === 0x3a || c === 0xff1a;
}

/**
 * A quoted line: `>` (any depth, with or without spaces) or the Supercite style with the writer's
 * initials (`JD> text`).
 */
export function isQuoteLine(line: string): boolean {
  const t = line.trimStart();
  if (t.startsWith('>')) return true;
  return /^[A-Z]{1,3}>/.test(t);
}

/** A quoted line whose content is empty (`>`, `> >`). */
export function isEmptyQuoteLine(line: string): boolean {
  return /^[\s>]+$/.test(line) && line.includes('>');
}

// The verb of an attribution ("… wrote:") in the languages mail clients localise it to.
const VERBS = [
  'wrote',
  'writes',
  'has written',
  'schrieb',
  'geschrieben',
  'a écrit',
  'a ecrit',
  'escribió',
  'escribio',
  'schreef',
  'geschreven',
  'skrev',
  'ha scritto',
  'escreveu',
  'kirjoitti',
  'napisał\\(a\\)',
  'napisała',
  'napisał',
  'napisal',
  'написал\\(а\\)',
  'написала',
  'написал',
  'написав\\(ла\\)',
  'написав',
  'napsal\\(a\\)',
  'napsala',
  'napsal',
  'napísal\\(a\\)',
  'napísal',
  'írta',
  'yazdı',
  'έγραψε',
  'a scris',
  'je napisao',
  'je napisala',
  'rašė',
  'rakstīja',
  'kirjutas',
  'пише',
  'пишет',
  'schreibt',
  'escribe',
  'scrive',
  'skriver',
  'pisze',
  'píše',
];
const VERB = `(?:${VERBS.join('|')})`;
// "… wrote:" at the end of the line; CJK verbs need no word boundary.
const VERB_END = new RegExp(`(?:(?:^|[\\s,>)"'])${VERB}|写道|寫道|作成|작성|님이 작성)\\s*[:：]$`, 'i');
// The verb anywhere (German "Am … schrieb Ann <a@b>:", Norwegian "… skrev Test <a@b>:").
const VERB_ANY = new RegExp(`(?:^|[\\s,>)"'])${VERB}(?:$|[\\s:：,(])`, 'i');

/** Words that open an attribution line ("On", "Am", "Le", "W dniu", …). */
const LEAD = /^(?:on|am|le|el|op|il|em|den|dne|dnia|w dniu)\b/i;
const WEEKDAY =
  /^(?:mon|tue|wed|thu|fri|sat|sun|montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|lunes|martes|miércoles|jueves|viernes|sábado|domingo|maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag)[a-z]*\b/i;

/** Whether a line can open an attribution that wraps over several lines. */
export function canOpenAttribution(line: string): boolean {
  if (line.length > 300) return false;
  // "Max Mustermann <max@example.com> schrieb am Fr., 28." (Gmail wraps the date onto the next line)
  if (line.includes('@') && VERB_ANY.test(line)) return true;
  if (/[.!?]$/.test(line)) return false;
  if (!/\d/.test(line)) return false;
  return (
    LEAD.test(line) ||
    WEEKDAY.test(line) ||
    /^\d/.test(line) ||
    /^\p{L}{1,4}\.?,?\s+\d{1,2}\.?\s+\p{L}/u.test(line)
  );
}

/** Whether a line opens with an attribution's lead word ("On", "Am", "Le", …) and carries a date. */
export function opensWithLead(line: string): boolean {
  return LEAD.test(line) && canOpenAttribution(line);
}

/** Whether the text ends with an address and a colon: `… <ann@example.com>:`, `… ann@example.com:`. */
function addressAtEnd(t: string): boolean {
  let body = t.slice(0, -1).trimEnd();
  if (body.endsWith('>')) body = body.slice(0, -1).trimEnd();
  const token = body.slice(body.lastIndexOf(' ') + 1);
  const at = token.indexOf('@');
  return at > 0 && at < token.length - 1 && !token.includes('>');
}
const TIME_OR_YEAR = /\d{1,2}[:.h]\d{2}|\b(?:19|20)\d{2}\b/;

export type AttributionStrength = 'strong' | 'weak' | null;

/**
 * Whether `text` (one line, or a few lines joined with spaces) is an attribution line introducing
 * quoted history. `strong` ones carry a date or an address and are trusted on their own; `weak` ones
 * ("Ann wrote:") only count when quoted lines follow.
 */
export function attributionStrength(text: string): AttributionStrength {
  const t = text.trim().replace(/^[-\s]{2,}(?=\S)/, '');
  if (t.length < 6 || t.length > MAX_ATTRIBUTION) return null;
  if (!t.endsWith(':') && !t.endsWith('：')) {
    // "On Wed, 14 Nov 2018 08:14:43 -0200 Ann <ann@example.com> wrote" (no colon): only with all the evidence
    return LEAD.test(t) && t.includes('@') && /\d/.test(t) && VERB_END.test(`${t}:`) ? 'strong' : null;
  }
  const evidence = /\d/.test(t) || t.includes('@');
  if (VERB_END.test(t)) {
    // "wrote:" alone is not an attribution; something must name the writer
    if (t.length < 10) return null;
    return evidence ? 'strong' : 'weak';
  }
  if (VERB_ANY.test(t) && (LEAD.test(t) || t.includes('@'))) return evidence ? 'strong' : 'weak';
  // "2017-11-24 16:32 GMT+01:00 Ann <ann@example.com>:", "30.09.2017, 18.30, "Ann" <a@b>:"
  if (addressAtEnd(t) && TIME_OR_YEAR.test(t.slice(0, t.lastIndexOf('@')))) return 'strong';
  return null;
}

/**
 * Gmail's old localised attribution without a colon: "2013/7/20 sam <info@example.com>" or
 * "2016-03-03 17:21 GMT+01:00 Some One".
 */
export function isDatedAttribution(line: string): boolean {
  if (line.length > 200 || !/^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b/.test(line)) return false;
  return /GMT[+-]\d|<[^<>\s@]{1,200}@[^<>\s@]{1,200}>/.test(line);
}

/** `s` without the given characters at either end (a linear scan; no backtracking regex). */
function trimChars(s: string, chars: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && chars.includes(s[start]!)) start++;
  while (end > start && chars.includes(s[end - 1]!)) end--;
  return s.slice(start, end);
}

/** Zoho's "---- On Tue, 22 Dec 2015 14:17:36 +0530 Ann <a@b> wrote ----". */
export function isDashedAttribution(line: string): boolean {
  if (!line.startsWith('--') || !line.endsWith('--')) return false;
  const inner = trimChars(line, '- ');
  return inner.length > 6 && inner.length < 400 && VERB_ANY.test(`${inner} `);
}

const SEPARATOR_WORDS =
  /original|forward|message|nachricht|besked|meddelelse|meddelande|melding|mensaje|mensagem|messaggio|bericht|wiadomo|сообщение|повідомлення|viesti|üzenet|zpráva|správa|mesaj|μήνυμα|邮件|郵件|メッセージ|原始|转发|轉寄|메시지/i;

/**
 * A client's separator before the original or forwarded message: "-----Original Message-----",
 * "---------- Forwarded message ---------", "-------- Oprindelig besked --------", "Begin forwarded message:".
 */
export function isSeparator(line: string): boolean {
  if (line.length > 120) return false;
  if (
    /^(?:begin forwarded message|anfang der weitergeleiteten nachricht|début du message réexpédié|inicio del mensaje reenviado)\s*:$/i.test(
      line,
    )
  )
    return true;
  const t = trimChars(line, '* ');
  if (!t.startsWith('--') && !t.startsWith('==')) return false;
  if (!t.endsWith('--') && !t.endsWith('==')) return false;
  const inner = trimChars(t, '-= \t');
  if (inner.length < 3 || inner.length > 80) return false;
  return SEPARATOR_WORDS.test(inner) && !VERB_ANY.test(`${inner} `);
}

// Outlook-style header blocks: "From: …" with "Sent:", "To:", "Subject:" lines (also bold "*From:*").
const FROM_KEYS =
  /^\*?(?:from|von|de|van|da|från|fra|lähettäjä|od|от|від|kimden|feladó|από|差出人|发件人|寄件者|寄件人|보낸 사람|message du)\s?\*?\s?[:：]/i;
const OTHER_KEYS =
  /^\*?(?:sent|date|to|cc|bcc|subject|reply-to|gesendet|datum|an|betreff|envoyé|envoyé le|à|a|objet|sujet|copie à|enviado|enviada|enviado el|enviada em|fecha|para|asunto|assunto|verzonden|aan|onderwerp|inviato|oggetto|data|skickat|ämne|till|sendt|dato|til|emne|lähetetty|vastaanottaja|aihe|päivämäärä|wysłano|wysłane|do|temat|odesláno|komu|předmět|отправлено|кому|тема|дата|надіслано|gönderildi|kime|konu|tarih|küldve|címzett|tárgy|dátum|προς|θέμα|στάλθηκε|送信日時|宛先|件名|日付|发送时间|收件人|主题|日期|傳送時間|收件者|主旨|받는 사람|제목|보낸 날짜)\s?\*?\s?[:：]/i;

export function isFromHeader(line: string): boolean {
  return line.length <= MAX_PATTERN_LINE && FROM_KEYS.test(line);
}

export function isOtherHeader(line: string): boolean {
  return line.length <= MAX_PATTERN_LINE && OTHER_KEYS.test(line);
}

export function isAnyHeader(line: string): boolean {
  return isFromHeader(line) || isOtherHeader(line);
}

/** A line shaped like "Key: value" or "Key : value" with a short key (for extending header blocks). */
export function looksLikeHeader(line: string): boolean {
  return line.length <= MAX_PATTERN_LINE && /^\*?[\p{L}][\p{L}\p{M} .'-]{0,28}\*?\s?[:：]/u.test(line);
}

// "Sent from my iPhone" and the like, as clients append them. Anchored and short, so a sentence that
// merely mentions a phone ("The notification was sent from my iPhone app to all users.") never matches.
const MOBILE_BOILERPLATE: readonly RegExp[] = [
  /^\(?sent (?:from|with|via|by|using|on) (?:my |a |an |the )?[^,.;:!?()]{1,60}(?:[.,;]\s*(?:please )?(?:excuse|pardon|forgive|sorry)\b.{0,80})?[.!]?\)?$/i,
  /^\(?sent from \[?[^\]]{1,40}\]?\(https?:\/\/\S{1,200}\)(?: for [^,.;:!?]{1,40})?$/i,
  /^(?:sent|envoyé) (?:from|de|depuis) [^,.;:!?]{1,40}<https?:\/\/\S{1,200}>$/i,
  /^<<sent by .{1,60}>>$/i,
  /^(?:\w[\w-]{0,20} )?from my (?:iphone|ipad|ipod|android|mobile|phone|cell|blackberry|smartphone|galaxy|samsung)\b[^,.;:!?]{0,40}$/i,
  /^\w[\w-]{0,20} (?:from|via) (?:my )?(?:mobile|phone|cell)\.?$/i,
  /^get (?:\[)?outlook for (?:ios|android)\b.{0,200}$/i,
  /^(?:von meinem|gesendet von meinem|gesendet mit|gesendet von|gesendet vom) .{1,80}$/i,
  /^diese nachricht wurde von meinem .{1,100} gesendet\.?$/i,
  /^envoy[ée] (?:de|depuis|avec|à partir de) (?:mon|ma|l'|outlook|yahoo)\s?.{0,80}$/i,
  /^(?:enviado|enviada) (?:desde|de|do|a partir do|com) (?:mi|meu|minha|o|outlook|yahoo)\b.{1,80}$/i,
  /^(?:verzonden|verstuurd) (?:vanaf|met|van|via) .{1,60}$/i,
  /^inviato da .{1,60}$/i,
  /^(?:skickat|sendt|sendes) fr[aå]n? .{1,60}$/i,
  /^lähetetty .{1,60}(?:laitteesta|puhelimesta|iphonesta|androidista)\.?$/i,
  /^wysłane z .{1,60}$/i,
  /^(?:отправлено|отправлено с|надіслано з) .{1,60}$/i,
  /^(?:從我的|来自我的|发自我的).{1,40}$/,
  /^.{1,30}から送信$/,
];

export function isMobileBoilerplate(line: string): boolean {
  if (line.length > 300) return false;
  return MOBILE_BOILERPLATE.some((re) => re.test(line));
}

/** A line of only dashes, underscores, equals signs, stars, tildes, pluses, hashes or dashes. */
export function isRuleLine(line: string): boolean {
  return line.length >= 2 && line.length <= 200 && /^[-_=*~+#—–]+$/.test(line);
}
