import './style.css';
import { enc, filterQuery, getJson, send } from './api.ts';
import { closeCompose, openCompose } from './compose.ts';
import { replayFinished } from './did.ts';
import { byId, debounce } from './dom.ts';
import {
  cursorId,
  loadList,
  loadMailboxes,
  loadMore,
  markSelected,
  moveCursor,
  refreshTop,
  removeRows,
  setRead,
  updateRow,
} from './list.ts';
import { actions, filtersActive, state } from './state.ts';
import type { Detail } from './types.ts';
import { closeView, deleteMessage, openMessage, refreshView } from './view.ts';

// The page's entry: wires the list, the view, compose, the filters, the keyboard and the event stream.

function notify(text: string, isError = false): void {
  const toast = byId('toast');
  toast.textContent = text;
  toast.className = isError ? 'toast error' : 'toast';
  toast.hidden = false;
  setTimeout(() => {
    if (toast.textContent === text) toast.hidden = true;
  }, 4000);
}

function fail(err: unknown): void {
  notify(err instanceof Error ? err.message : String(err), true);
}

actions.notify = notify;
actions.open = (id) => {
  if (location.hash.slice(1) !== enc(id)) location.hash = enc(id);
  else void showMessage(id);
};
actions.deleted = (ids) => {
  removeRows(ids);
  if (ids === 'all' || (state.selected && ids.includes(state.selected))) closeView();
  refreshMailboxes();
};

async function showMessage(id: string): Promise<void> {
  try {
    await openMessage(id);
    markSelected(id);
  } catch (err) {
    fail(err);
  }
}

const reload = () => loadList().catch(fail);
const refreshMailboxes = debounce(() => void loadMailboxes(), 300);
const refreshTopSoon = debounce(() => void refreshTop().catch(fail), 60);

/** Messages whose processing changed: their rows, and the open view, catch up once per burst. */
const changed = new Set<string>();
const refreshChanged = debounce(() => {
  const ids = [...changed];
  changed.clear();
  for (const id of ids) {
    const listed = state.messages.some((m) => m.id === id);
    if (!listed && id !== state.selected) continue;
    getJson<Detail>(`/api/messages/${enc(id)}`)
      .then((detail) => {
        updateRow(detail);
        if (id === state.selected) refreshView(detail);
      })
      .catch(() => {});
  }
}, 80);

function connectEvents(): void {
  const live = byId('live');
  const events = new EventSource('/api/events');
  events.onopen = () => {
    live.textContent = '● live';
    live.className = 'live on';
  };
  events.onerror = () => {
    live.textContent = '○ reconnecting';
    live.className = 'live';
  };
  const data = (e: Event) => JSON.parse((e as MessageEvent<string>).data) as Record<string, unknown>;
  events.addEventListener('message.received', () => {
    refreshTopSoon();
    refreshMailboxes();
  });
  for (const type of ['message.processed', 'message.failed']) {
    events.addEventListener(type, (e) => {
      const id = String(data(e).id);
      replayFinished(id, type === 'message.processed' ? 'processed' : 'failed');
      changed.add(id);
      refreshChanged();
      refreshMailboxes();
    });
  }
  for (const type of ['delivery.updated', 'delivery.failed', 'delivery.rescheduled']) {
    events.addEventListener(type, (e) => {
      changed.add(String(data(e).id));
      refreshChanged();
    });
  }
  events.addEventListener('message.deleted', (e) => {
    const d = data(e);
    actions.deleted(d.all ? 'all' : [String(d.id)]);
  });
  events.addEventListener('message.read', (e) => {
    const d = data(e);
    setRead(String(d.id), Boolean(d.read));
    refreshMailboxes();
  });
}

function wireFilters(): void {
  const mailbox = byId<HTMLSelectElement>('f-mailbox');
  const status = byId<HTMLSelectElement>('f-status');
  const route = byId<HTMLInputElement>('f-route');
  const failed = byId<HTMLInputElement>('f-failed');
  const search = byId<HTMLInputElement>('search');
  const apply = () => {
    state.filters = {
      mailbox: mailbox.value,
      status: status.value,
      route: route.value.trim(),
      failed: failed.checked,
      q: search.value,
    };
    void reload();
  };
  const applySoon = debounce(apply, 250);
  mailbox.addEventListener('change', apply);
  status.addEventListener('change', apply);
  failed.addEventListener('change', apply);
  route.addEventListener('input', applySoon);
  search.addEventListener('input', applySoon);
  byId('more').addEventListener('click', () => void loadMore().catch(fail));
  byId('compose-open').addEventListener('click', openCompose);
  byId('delete-listed').addEventListener('click', () => void deleteListed());
}

async function deleteListed(): Promise<void> {
  const question = filtersActive()
    ? 'Delete every message that matches the filters and search?'
    : 'Delete ALL messages?';
  if (!window.confirm(question)) return;
  try {
    const qs = filterQuery(state.filters).toString();
    const answer = await send<{ deleted: number }>('DELETE', `/api/messages${qs ? `?${qs}` : ''}`);
    notify(`Deleted ${answer?.deleted ?? 0} messages`);
    if (!filtersActive()) actions.deleted('all');
    else await reload();
    refreshMailboxes();
  } catch (err) {
    fail(err);
  }
}

function typing(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
}

function onKey(event: KeyboardEvent): void {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === 'Escape') {
    if (!byId('compose').hidden) closeCompose();
    else if (typing(event.target)) (event.target as HTMLElement).blur();
    else closeView();
    return;
  }
  if (typing(event.target)) return;
  const id = cursorId();
  if (event.key === 'j' || event.key === 'k') moveCursor(event.key === 'j' ? 1 : -1);
  else if (event.key === 'Enter' && id) actions.open(id);
  else if (event.key === '/') byId('search').focus();
  else if (event.key === 'Delete' && id) void deleteMessage(id);
  else return;
  event.preventDefault();
}

function openFromHash(): void {
  const id = decodeURIComponent(location.hash.slice(1));
  if (/^[a-z0-9-]{1,64}$/.test(id)) void showMessage(id);
  else closeView();
}

wireFilters();
document.addEventListener('keydown', onKey);
window.addEventListener('hashchange', openFromHash);
connectEvents();
void loadMailboxes();
void reload().then(() => {
  document.body.dataset.ready = '1';
  if (location.hash.length > 1) openFromHash();
});
