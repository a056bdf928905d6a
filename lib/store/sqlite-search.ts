// Full-text search of the SQLite store: one FTS5 document per message (table `message_search`, contentless,
// keyed by `search_docs.doc`), and the translation of what a person types into a query FTS5 cannot refuse.
import type { Envelope } from '../kernel/index.ts';
import type { ParsedMessage } from '../message/index.ts';

/** What writes the derived tables: the store's connection, or the raw one during a migration. */
export interface StatementSource {
  stmt(sql: string): {
    run(...params: unknown[]): { changes: number };
    get(...params: unknown[]): unknown;
    all(...params: unknown[]): unknown[];
  };
}

/** Characters of the text body that are indexed: a long body's start is what people search for. */
export const SEARCH_BODY_CHARS = 256 * 1024;
/** Words of a search that count; the rest are ignored (a pasted 10 KB text stays a bounded query). */
export const SEARCH_MAX_WORDS = 32;
/** Characters of one search word that count. */
export const SEARCH_MAX_WORD_CHARS = 128;

/** The indexed columns of one message (see the `message_search` table). */
export interface SearchDocument {
  subject: string;
  sender: string;
  recipients: string;
  body: string;
}

/**
 * What is indexed of a message: subject, From (name and address) and the envelope sender, To/Cc and the
 * envelope recipients, and the first {@link SEARCH_BODY_CHARS} characters of the text body. Before the
 * message is parsed (`parsed` null) only the envelope is.
 */
export function searchDocument(
  parsed: ParsedMessage | null,
  envelope: Pick<Envelope, 'mailFrom' | 'rcptTo'>,
): SearchDocument {
  const headerRecipients = parsed ? [...parsed.to, ...parsed.cc].map((a) => `${a.name} ${a.address}`) : [];
  return {
    subject: parsed?.subject ?? '',
    sender: [parsed?.from?.name, parsed?.from?.address, envelope.mailFrom].filter(Boolean).join(' '),
    recipients: [...headerRecipients, ...envelope.rcptTo].join(' '),
    body: (parsed?.text ?? '').slice(0, SEARCH_BODY_CHARS),
  };
}

/** Writes (or replaces) the search document of a message that has a record. */
export function writeSearchDocument(db: StatementSource, messageId: string, doc: SearchDocument): void {
  db.stmt('INSERT INTO search_docs (message_id) VALUES (?) ON CONFLICT (message_id) DO NOTHING').run(
    messageId,
  );
  const { doc: rowid } = db.stmt('SELECT doc FROM search_docs WHERE message_id = ?').get(messageId) as {
    doc: number;
  };
  db.stmt('DELETE FROM message_search WHERE rowid = ?').run(rowid);
  db.stmt('INSERT INTO message_search (rowid, subject, sender, recipients, body) VALUES (?, ?, ?, ?, ?)').run(
    rowid,
    doc.subject,
    doc.sender,
    doc.recipients,
    doc.body,
  );
}

/** Removes the search document of a message (nothing when it has none). */
export function deleteSearchDocument(db: StatementSource, messageId: string): void {
  const row = db.stmt('SELECT doc FROM search_docs WHERE message_id = ?').get(messageId) as
    | { doc: number }
    | undefined;
  if (!row) return;
  db.stmt('DELETE FROM message_search WHERE rowid = ?').run(row.doc);
  db.stmt('DELETE FROM search_docs WHERE doc = ?').run(row.doc);
}

/** A word counts when it has a letter or digit: FTS5's tokenizer drops everything else. */
const SEARCHABLE = /[\p{L}\p{N}]/u;

/**
 * The FTS5 query of what a person typed: each whitespace-separated word becomes a quoted string (FTS5
 * reads nothing inside quotes as syntax; a `"` in the word is doubled), the words are ANDed, and the last
 * one matches as a prefix (typing `invo` finds "invoice"). Control characters separate words. Words without a letter or digit are dropped, at
 * most {@link SEARCH_MAX_WORDS} words of {@link SEARCH_MAX_WORD_CHARS} characters count. Linear in the
 * input; never throws.
 * @returns null when nothing searchable was typed (the listing is then not narrowed).
 */
export function searchQuery(typed: string): string | null {
  const words: string[] = [];
  // a NUL ends FTS5's reading of a string ("unterminated string"): control characters separate words
  for (const match of typed.matchAll(/[^\s\p{Cc}]+/gu)) {
    const word = [...match[0]].slice(0, SEARCH_MAX_WORD_CHARS).join('');
    if (!SEARCHABLE.test(word)) continue;
    words.push(`"${word.replaceAll('"', '""')}"`);
    if (words.length === SEARCH_MAX_WORDS) break;
  }
  if (words.length === 0) return null;
  words[words.length - 1] += '*';
  return words.join(' AND ');
}
