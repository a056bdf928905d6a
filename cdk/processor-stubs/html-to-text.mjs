// Stands in for html-to-text (with htmlparser2 and entities, ≈0.2 MB) in the processor bundle. mailparser
// only calls it to derive `text` from HTML, which Mailroom turns off (`skipHtmlToText`; lib/message has its
// own HTML-to-text for reply extraction). If it is ever called, mailparser reports the error as a
// `textConversionError` and keeps the HTML; nothing is lost.
export function htmlToText() {
  throw new Error('html-to-text is not part of the Mailroom processor bundle (parse with skipHtmlToText)');
}
export function convert() {
  throw new Error('html-to-text is not part of the Mailroom processor bundle (parse with skipHtmlToText)');
}
export function compile() {
  throw new Error('html-to-text is not part of the Mailroom processor bundle (parse with skipHtmlToText)');
}
