import { enc, getJson, getText, send } from './api.ts';
import { verdictLines } from './auth-words.ts';
import { whatMailroomDid } from './did.ts';
import { addressText, append, button, byId, h, sizeText, timeText } from './dom.ts';
import { setRead } from './list.ts';
import { actions, state } from './state.ts';
import type { Address, Detail, Parsed, Summary } from './types.ts';

// The message view: headers, the body (HTML in a sandboxed frame, text, sources), attachments, verdicts,
// the extracted reply, the thread, and what Mailroom did with it.

/** Raw sources larger than this are shown cut (the download link has all of it). */
const RAW_SHOWN = 512 * 1024;
type Tab = 'html' | 'text' | 'source' | 'raw' | 'headers';
let activeTab: Tab | null = null;

function addresses(list: Address[]): string {
  return list.map(addressText).join(', ');
}

function meta(rows: Array<[string, string | null | undefined]>): HTMLElement {
  const dl = h('dl', { class: 'meta' });
  for (const [label, value] of rows) {
    if (value) dl.append(h('dt', null, label), h('dd', null, value));
  }
  return dl;
}

function htmlFrame(id: string, remote: boolean): HTMLElement {
  // sandbox="" : no scripts, no forms, no popups, an opaque origin. The route's CSP says the same.
  const frame = h('iframe', {
    class: 'html-frame',
    attrs: {
      sandbox: '',
      referrerpolicy: 'no-referrer',
      title: 'HTML body',
      src: `/api/messages/${enc(id)}/html${remote ? '?remote=1' : ''}`,
    },
  });
  const toggle = remote
    ? h('span', { class: 'note' }, 'Remote content allowed for this message.')
    : button('Load remote content', () => frame.parentElement?.replaceWith(htmlFrame(id, true)));
  return h('div', { class: 'html-body' }, h('div', { class: 'actions' }, toggle), frame);
}

async function rawSource(id: string): Promise<HTMLElement> {
  const text = await getText(`/api/messages/${enc(id)}/raw`);
  const cut = text.length > RAW_SHOWN;
  return h(
    'div',
    null,
    cut ? h('p', { class: 'note' }, `Showing the first ${sizeText(RAW_SHOWN)}; download for all.`) : null,
    h('pre', { class: 'source', attrs: { id: 'raw-source' } }, cut ? text.slice(0, RAW_SHOWN) : text),
  );
}

function tabBody(message: Detail, tab: Tab): HTMLElement | Promise<HTMLElement> {
  const p = message.parsed;
  switch (tab) {
    case 'html':
      return htmlFrame(message.id, false);
    case 'text':
      return h('pre', { class: 'text-body' }, p?.text ?? '(no text part)');
    case 'source':
      return h('pre', { class: 'source' }, p?.html ?? '');
    case 'raw':
      return rawSource(message.id);
    case 'headers':
      return h(
        'dl',
        { class: 'headers' },
        ...(p?.headers ?? []).flatMap((f) => [h('dt', null, f.key), h('dd', null, f.value)]),
      );
  }
}

function bodyTabs(message: Detail): HTMLElement {
  const p = message.parsed;
  const tabs: Array<[Tab, string]> = [];
  if (p?.html) tabs.push(['html', 'HTML']);
  tabs.push(['text', 'Text']);
  if (p?.html) tabs.push(['source', 'HTML source']);
  tabs.push(['raw', 'Raw'], ['headers', 'Headers']);
  const body = h('div', { class: 'tab-body' });
  const bar = h('div', { class: 'tabs', attrs: { role: 'tablist' } });
  const show = async (tab: Tab) => {
    activeTab = tab;
    for (const b of bar.children) b.setAttribute('aria-selected', String(b.getAttribute('data-tab') === tab));
    body.replaceChildren(h('p', { class: 'note' }, 'Loading…'));
    try {
      body.replaceChildren(await tabBody(message, tab));
    } catch (err) {
      body.replaceChildren(h('p', { class: 'error' }, (err as Error).message));
    }
  };
  for (const [tab, label] of tabs) {
    bar.append(
      h(
        'button',
        { attrs: { type: 'button', role: 'tab', 'data-tab': tab }, on: { click: () => void show(tab) } },
        label,
      ),
    );
  }
  const first = tabs.find(([t]) => t === activeTab)?.[0] ?? tabs[0]![0];
  void show(first);
  return h('div', null, bar, body);
}

function attachmentsSection(message: Detail, p: Parsed): HTMLElement | null {
  if (p.attachments.length === 0) return null;
  const items = p.attachments.map((a, n) => {
    const url = `/api/messages/${enc(message.id)}/attachments/${n}`;
    const name = a.filename ?? `attachment-${n + 1}`;
    return h(
      'li',
      { class: a.related ? 'attachment related' : 'attachment' },
      a.contentType.startsWith('image/')
        ? h('img', { class: 'thumb', attrs: { src: url, alt: name, loading: 'lazy' } })
        : null,
      h('a', { attrs: { href: `${url}?download=1`, download: name } }, name),
      h(
        'span',
        { class: 'note' },
        ` ${a.contentType}, ${sizeText(a.size)}${a.related ? ', shown in the HTML' : ''}`,
      ),
    );
  });
  return h('section', null, h('h3', null, 'Attachments'), h('ul', { class: 'attachments' }, ...items));
}

function replySection(p: Parsed): HTMLElement {
  return h(
    'section',
    null,
    h('h3', null, 'Reply text Mailroom extracted'),
    h('pre', { class: 'text-body' }, p.reply.text || '(empty)'),
    p.reply.signature
      ? h(
          'div',
          null,
          h('p', { class: 'note' }, 'Signature cut:'),
          h('pre', { class: 'text-body' }, p.reply.signature),
        )
      : h('p', { class: 'note' }, 'No signature cut.'),
  );
}

function threadSection(message: Detail): HTMLElement | null {
  if (!message.threadId) return null;
  const list = h('ul', { class: 'thread' });
  void getJson<{ messages: Summary[] }>(`/api/threads/${enc(message.threadId)}`)
    .then(({ messages }) => {
      list.replaceChildren(
        ...messages.map((m) =>
          h(
            'li',
            { class: m.id === message.id ? 'current' : '' },
            m.id === message.id
              ? `${timeText(m.receivedAt)} ${m.subject ?? '(no subject)'} (this message)`
              : h(
                  'a',
                  { attrs: { href: `#${m.id}` } },
                  `${timeText(m.receivedAt)} ${m.subject ?? '(no subject)'}`,
                ),
          ),
        ),
      );
    })
    .catch(() => list.replaceChildren(h('li', { class: 'note' }, 'Thread not available.')));
  return h('section', null, h('h3', null, 'Thread'), list);
}

function headerBlock(message: Detail): HTMLElement {
  const p = message.parsed;
  const id = message.id;
  return h(
    'div',
    { class: 'view-head' },
    h(
      'div',
      { class: 'actions' },
      button('← Back', () => closeView(), 'back'),
      button(message.read === false ? 'Mark read' : 'Mark unread', () => void toggleRead(message)),
      button('Delete', () => void deleteMessage(id)),
      h(
        'a',
        { class: 'button', attrs: { href: `/api/messages/${enc(id)}/raw`, download: `${id}.eml` } },
        'Download .eml',
      ),
    ),
    h('h2', { class: 'subject' }, p?.subject ?? message.subject ?? '(no subject)'),
    h(
      'p',
      null,
      h('span', { class: `status status-${message.status}`, attrs: { id: 'view-status' } }, message.status),
    ),
    meta([
      ['From', addressText(p?.from ?? message.from)],
      ['To', p ? addresses(p.to) : null],
      ['Cc', p ? addresses(p.cc) : null],
      ['Reply-To', p ? addresses(p.replyTo) : null],
      ['Date', timeText(p?.date)],
      ['Received', timeText(message.receivedAt)],
      ['Envelope', `from <${message.envelope.mailFrom}> to ${message.envelope.rcptTo.join(', ')}`],
      [
        'Client',
        message.envelope.remoteAddress
          ? `${message.envelope.remoteAddress} (HELO ${message.envelope.helo ?? '?'})`
          : null,
      ],
      ['Size', sizeText(message.size)],
      ['Message-ID', p?.messageId],
    ]),
    p?.problems.length ? h('ul', { class: 'problems' }, ...p.problems.map((x) => h('li', null, x))) : null,
  );
}

/** Renders a message into the view. */
export function renderView(message: Detail): void {
  const view = byId('view');
  const p = message.parsed;
  view.replaceChildren();
  append(view, [
    headerBlock(message),
    p ? bodyTabs(message) : h('p', { class: 'note' }, 'Not parsed yet.'),
    p ? attachmentsSection(message, p) : null,
    message.auth
      ? h(
          'section',
          { class: 'auth' },
          h('h3', null, 'Authentication'),
          h('ul', null, ...verdictLines(message.auth).map((l) => h('li', null, l))),
        )
      : null,
    p ? replySection(p) : null,
    threadSection(message),
    whatMailroomDid(message),
  ]);
  view.dataset.parsed = p ? '1' : '';
  view.hidden = false;
  document.body.classList.add('viewing');
}

/**
 * New processing state of the open message: its status and the "What Mailroom did" section only (the body
 * frame and the tab shown stay as they are), or everything when it was opened before it was parsed.
 */
export function refreshView(message: Detail): void {
  // Opened before it was parsed (a message just sent): now there is a subject, a body and verdicts to show.
  if (message.parsed && !byId('view').dataset.parsed) {
    renderView(message);
    return;
  }
  const status = document.getElementById('view-status');
  if (status) {
    status.textContent = message.status;
    status.className = `status status-${message.status}`;
  }
  document.getElementById('did')?.replaceWith(whatMailroomDid(message));
}

export async function openMessage(id: string): Promise<void> {
  const message = await getJson<Detail>(`/api/messages/${enc(id)}`);
  state.selected = id;
  renderView(message);
  if (message.read === false) {
    setRead(id, true);
    await send('PUT', `/api/messages/${enc(id)}/read`, { read: true }).catch(() => {});
  }
}

export function closeView(): void {
  state.selected = null;
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  byId('view').hidden = true;
  document.body.classList.remove('viewing');
}

async function toggleRead(message: Detail): Promise<void> {
  const read = message.read === false;
  try {
    await send('PUT', `/api/messages/${enc(message.id)}/read`, { read });
    setRead(message.id, read);
    message.read = read;
    renderView(message);
  } catch (err) {
    actions.notify((err as Error).message, true);
  }
}

export async function deleteMessage(id: string): Promise<void> {
  if (!window.confirm('Delete this message?')) return;
  try {
    await send('DELETE', `/api/messages/${enc(id)}`);
    actions.deleted([id]);
  } catch (err) {
    actions.notify(`Delete failed: ${(err as Error).message}`, true);
  }
}
