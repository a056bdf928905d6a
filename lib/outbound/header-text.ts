/**
 * Text fit for a header field: every control character (CR, LF, NUL, TAB, DEL, C1 controls such as NEL)
 * and the Unicode line and paragraph separators become one space, so nothing taken from a message (a
 * decoded encoded-word included) can end a header line or start a new one, whatever the next reader treats
 * as a line break.
 */
export function headerText(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ');
}

/** A display name for a header: {@link headerText}, trimmed, at most `max` characters. */
export function displayName(name: string | undefined, max = 100): string {
  return headerText(name ?? '')
    .trim()
    .slice(0, max);
}
