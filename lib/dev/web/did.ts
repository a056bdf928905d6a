import { enc, getJson, send } from './api.ts';
import { button, h, timeText } from './dom.ts';
import { actions } from './state.ts';
import type { DeliveryDetail, Detail, OutboxSummary, RecipientRouting } from './types.ts';

// "What Mailroom did": the routing decision per recipient, each delivery with its attempts, errors and
// timings (and Replay), the replies it sent, and the processing trace.

/** The replay the user asked for last, shown until the message's next processed/failed event. */
const pendingReplay = new Map<string, string>();

function paramsText(params: Record<string, string>): string {
  const entries = Object.entries(params);
  return entries.length ? ` (${entries.map(([k, v]) => `${k}=${v}`).join(', ')})` : '';
}

function routingBlock(r: RecipientRouting): HTMLElement {
  const lines: HTMLElement[] = [];
  for (const m of r.matched) {
    lines.push(h('li', { class: 'ok' }, `→ ${m.route}${paramsText(m.params)}: ${m.actions.join(', ')}`));
  }
  if (r.rejected) lines.push(h('li', { class: 'bad' }, `refused ${r.rejected.code} ${r.rejected.message}`));
  if (!r.matched.length && !r.rejected) lines.push(h('li', { class: 'bad' }, 'no route matched'));
  for (const c of r.considered ?? []) {
    lines.push(h('li', { class: c.matched ? 'considered ok' : 'considered' }, `${c.route}: ${c.reason}`));
  }
  return h('div', { class: 'routing' }, h('strong', null, r.recipient), h('ul', null, ...lines));
}

async function loadRouting(id: string, into: HTMLElement): Promise<void> {
  try {
    const routing = await getJson<{ recipients: RecipientRouting[]; computedWith?: string }>(
      `/api/messages/${enc(id)}/routing`,
    );
    into.replaceChildren(
      h('p', { class: 'note' }, `Computed with the ${routing.computedWith ?? 'current config'}.`),
      ...routing.recipients.map(routingBlock),
    );
  } catch (err) {
    into.replaceChildren(h('p', { class: 'note' }, `Routing not available: ${(err as Error).message}`));
  }
}

function timing(d: DeliveryDetail): string {
  const parts: string[] = [];
  if (d.startedAt) parts.push(`started ${timeText(d.startedAt)}`);
  if (d.durationMs !== undefined) parts.push(`took ${d.durationMs} ms`);
  else if (d.updatedAt) parts.push(`updated ${timeText(d.updatedAt)}`);
  return parts.join(', ');
}

async function replay(id: string, key: string | null, label: string): Promise<void> {
  const path = key
    ? `/api/messages/${enc(id)}/deliveries/${enc(key)}/replay`
    : `/api/messages/${enc(id)}/replay`;
  pendingReplay.set(id, `${label}: running…`);
  actions.notify(`${label} requested`);
  try {
    await send('POST', path);
  } catch (err) {
    pendingReplay.set(id, `${label} refused: ${(err as Error).message}`);
    actions.notify(`${label} refused: ${(err as Error).message}`, true);
  }
}

/** Called for the message's processed/failed events: the replay's outcome, shown in place. */
export function replayFinished(id: string, status: string): void {
  if (pendingReplay.has(id)) pendingReplay.set(id, `Replay finished: ${status}`);
}

function deliveryCard(message: Detail, d: DeliveryDetail): HTMLElement {
  const target = d.mailbox ? `mailbox ${d.mailbox}` : d.target ? `${d.action} ${d.target}` : d.action;
  const attempts = `${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`;
  return h(
    'li',
    { class: `delivery delivery-${d.status}`, attrs: { 'data-route': d.route } },
    h(
      'div',
      null,
      h('span', { class: `status status-${d.status}` }, d.status),
      ` ${d.recipient} → ${d.route}`,
    ),
    h(
      'div',
      { class: 'note' },
      `${target}${paramsText(d.params)} · ${attempts}`,
      timing(d) ? ` · ${timing(d)}` : '',
    ),
    d.error ? h('pre', { class: 'error' }, d.error) : null,
    d.key ? button('Replay delivery', () => void replay(message.id, d.key!, `Replay of ${d.route}`)) : null,
  );
}

async function loadOutbox(id: string, into: HTMLElement): Promise<void> {
  try {
    const { messages } = await getJson<{ messages: OutboxSummary[] }>(`/api/outbox?inReplyTo=${enc(id)}`);
    if (messages.length === 0) {
      into.replaceChildren(h('p', { class: 'note' }, 'No replies sent.'));
      return;
    }
    into.replaceChildren(
      h(
        'ul',
        null,
        ...messages.map((o) =>
          h(
            'li',
            null,
            `${timeText(o.createdAt)} to ${o.to.join(', ')}: ${o.subject ?? '(no subject)'} (${o.transport}) `,
            h('a', { attrs: { href: `/api/outbox/${enc(o.id)}/raw`, download: `${o.id}.eml` } }, 'raw'),
          ),
        ),
      ),
    );
  } catch (err) {
    into.replaceChildren(h('p', { class: 'note' }, `Outbox not available: ${(err as Error).message}`));
  }
}

/** The whole "What Mailroom did" section for a message. */
export function whatMailroomDid(message: Detail): HTMLElement {
  const routing = h('div', null, h('p', { class: 'note' }, 'Loading routing…'));
  const outbox = h('div', null);
  void loadRouting(message.id, routing);
  void loadOutbox(message.id, outbox);
  const replayNote = pendingReplay.get(message.id);
  return h(
    'section',
    { class: 'did', attrs: { id: 'did' } },
    h('h3', null, 'What Mailroom did'),
    h(
      'div',
      { class: 'actions' },
      button('Replay message', () => void replay(message.id, null, 'Replay of the message')),
      replayNote ? h('span', { class: 'note', attrs: { id: 'replay-note' } }, replayNote) : null,
    ),
    h('h4', null, 'Routing'),
    routing,
    h('h4', null, 'Deliveries'),
    message.deliveries.length
      ? h('ul', { class: 'deliveries-list' }, ...message.deliveries.map((d) => deliveryCard(message, d)))
      : h('p', { class: 'note' }, 'No deliveries (yet).'),
    h('h4', null, 'Replies sent'),
    outbox,
    h('h4', null, 'Trace'),
    h(
      'ol',
      { class: 'trace' },
      ...message.trace.map((t) =>
        h('li', null, h('time', null, timeText(t.at)), ' ', h('strong', null, t.step), ' ', t.detail),
      ),
    ),
  );
}
