import { filterQuery, getJson } from './api.ts';
import { addressText, byId, h, shortTime } from './dom.ts';
import { actions, filtersActive, state } from './state.ts';
import type { Mailbox, Summary } from './types.ts';

// The message list: newest first, one row per message, refreshed from the event stream.

const PAGE = 100;
const rowsById = new Map<string, HTMLLIElement>();

interface ListPage {
  messages: Summary[];
  nextCursor?: string | null;
}

function deliveriesText(m: Summary): string {
  return m.deliveries.map((d) => `${d.route} → ${d.mailbox ?? d.action}: ${d.status}`).join(' · ');
}

function renderRow(m: Summary): HTMLLIElement {
  const failed = m.deliveries.filter((d) => d.status === 'failed').length;
  const row = h(
    'li',
    {
      class: 'row',
      attrs: { 'data-id': m.id, tabindex: '-1', role: 'option' },
      on: { click: () => actions.open(m.id) },
    },
    h('span', { class: 'from' }, addressText(m.from) || m.envelope.mailFrom || '<>'),
    h('time', { class: 'time', attrs: { datetime: m.receivedAt } }, shortTime(m.receivedAt)),
    h('span', { class: 'subject' }, m.subject ?? '(no subject)'),
    h('span', { class: `status status-${m.status}` }, failed ? `${m.status} · ${failed} failed` : m.status),
    h('span', { class: 'deliveries' }, deliveriesText(m)),
  );
  row.classList.toggle('unread', m.read === false);
  row.classList.toggle('selected', m.id === state.selected);
  return row;
}

function showEmptyState(): void {
  const empty = byId('empty');
  empty.hidden = state.messages.length > 0;
  empty.textContent = filtersActive()
    ? 'No messages match these filters.'
    : 'No messages yet. Send one with `npx mailroom send file.eml --to support@example.com`, over SMTP, or with Compose.';
  byId('more').hidden = !state.nextCursor;
  byId('delete-listed').textContent = filtersActive() ? 'Delete matching…' : 'Delete all…';
}

async function fetchPage(before: string | null, limit = PAGE): Promise<ListPage> {
  const qs = filterQuery(state.filters);
  qs.set('limit', String(limit));
  if (before) qs.set('before', before);
  return getJson<ListPage>(`/api/messages?${qs}`);
}

/** Lists the first page for the current filters, replacing what is shown. */
export async function loadList(): Promise<void> {
  const page = await fetchPage(null);
  state.messages = page.messages;
  state.nextCursor = page.nextCursor ?? null;
  state.cursor = -1;
  rowsById.clear();
  const rows = byId('rows');
  rows.replaceChildren(...state.messages.map((m) => remember(renderRow(m), m)));
  showEmptyState();
}

function remember(row: HTMLLIElement, m: Summary): HTMLLIElement {
  rowsById.set(m.id, row);
  return row;
}

/** Appends the next page (the `nextCursor` of the last one). */
export async function loadMore(): Promise<void> {
  if (!state.nextCursor) return;
  const page = await fetchPage(state.nextCursor);
  const fresh = page.messages.filter((m) => !rowsById.has(m.id));
  state.messages.push(...fresh);
  state.nextCursor = page.nextCursor ?? null;
  byId('rows').append(...fresh.map((m) => remember(renderRow(m), m)));
  showEmptyState();
}

function newer(a: Summary, b: Summary): boolean {
  return a.receivedAt > b.receivedAt || (a.receivedAt === b.receivedAt && a.id > b.id);
}

/** Merges the first page into the list: new messages appear at their place, known ones are updated. */
export async function refreshTop(): Promise<void> {
  const page = await fetchPage(null);
  const rows = byId('rows');
  for (const m of [...page.messages].reverse()) {
    if (rowsById.has(m.id)) {
      updateRow(m);
      continue;
    }
    let index = state.messages.findIndex((other) => newer(m, other));
    if (index === -1) {
      if (state.nextCursor) continue; // older than what is loaded: "load more" brings it
      index = state.messages.length;
    }
    const row = remember(renderRow(m), m);
    rows.insertBefore(row, rowsById.get(state.messages[index]?.id ?? '') ?? null);
    state.messages.splice(index, 0, m);
    if (state.cursor >= index) state.cursor++;
  }
  if (state.messages.length === 0 && page.nextCursor) state.nextCursor = page.nextCursor;
  showEmptyState();
}

/** Shows new data of a listed message (its status, deliveries, read state). */
export function updateRow(m: Summary): void {
  const index = state.messages.findIndex((other) => other.id === m.id);
  const old = rowsById.get(m.id);
  if (index === -1 || !old) return;
  const summary: Summary = { ...state.messages[index]!, ...m };
  state.messages[index] = summary;
  const row = remember(renderRow(summary), summary);
  row.classList.toggle('cursor', old.classList.contains('cursor'));
  old.replaceWith(row);
}

export function setRead(id: string, read: boolean): void {
  const m = state.messages.find((other) => other.id === id);
  if (m) updateRow({ ...m, read });
}

export function removeRows(ids: string[] | 'all'): void {
  if (ids === 'all') {
    state.messages = [];
    byId('rows').replaceChildren();
    rowsById.clear();
  } else {
    for (const id of ids) {
      rowsById.get(id)?.remove();
      rowsById.delete(id);
    }
    state.messages = state.messages.filter((m) => !ids.includes(m.id));
  }
  state.cursor = Math.min(state.cursor, state.messages.length - 1);
  showEmptyState();
}

export function markSelected(id: string | null): void {
  for (const row of byId('rows').querySelectorAll('.selected')) row.classList.remove('selected');
  if (id) rowsById.get(id)?.classList.add('selected');
}

/** j/k: moves the keyboard cursor over the rows; returns the id under it. */
export function moveCursor(delta: number): string | null {
  if (state.messages.length === 0) return null;
  const selectedIndex = state.messages.findIndex((m) => m.id === state.selected);
  const from = state.cursor === -1 ? selectedIndex : state.cursor;
  state.cursor = Math.max(0, Math.min(state.messages.length - 1, from + delta));
  for (const row of byId('rows').querySelectorAll('.cursor')) row.classList.remove('cursor');
  const id = state.messages[state.cursor]!.id;
  const row = rowsById.get(id);
  row?.classList.add('cursor');
  row?.scrollIntoView({ block: 'nearest' });
  row?.focus({ preventScroll: true });
  return id;
}

export function cursorId(): string | null {
  return state.messages[state.cursor]?.id ?? state.selected;
}

/** The mailbox filter's choices, with counts. */
export async function loadMailboxes(): Promise<void> {
  const select = byId<HTMLSelectElement>('f-mailbox');
  let mailboxes: Mailbox[];
  try {
    ({ mailboxes } = await getJson<{ mailboxes: Mailbox[] }>('/api/mailboxes'));
  } catch {
    return; // an older server without the route: the filter keeps "All mailboxes"
  }
  const current = select.value;
  const options = [h('option', { attrs: { value: '' } }, 'All mailboxes')];
  for (const mb of mailboxes) {
    const unread = mb.unread ? `, ${mb.unread} unread` : '';
    options.push(h('option', { attrs: { value: mb.name } }, `${mb.name} (${mb.count}${unread})`));
  }
  select.replaceChildren(...options);
  select.value = mailboxes.some((mb) => mb.name === current) ? current : '';
}
