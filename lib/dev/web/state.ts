import type { ListFilters, Summary } from './types.ts';

/** What the page shows now; one instance, owned by main.ts and read by the views. */
export const state = {
  filters: { mailbox: '', status: '', route: '', failed: false, q: '' } as ListFilters,
  /** The listed messages, newest first, as the API answered them. */
  messages: [] as Summary[],
  nextCursor: null as string | null,
  /** The message open in the view, or null. */
  selected: null as string | null,
  /** The row j/k moves over (an index into `messages`), -1 before the first move. */
  cursor: -1,
};

/** What one part of the page asks of another; main.ts fills these in (no import cycles). */
export const actions = {
  open: (_id: string): void => {},
  deleted: (_ids: string[] | 'all'): void => {},
  notify: (_text: string, _isError?: boolean): void => {},
};

export function filtersActive(): boolean {
  const f = state.filters;
  return Boolean(f.mailbox || f.status || f.route || f.failed || f.q.trim());
}
