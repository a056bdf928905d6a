import { enc, getJson, send, uploadEml } from './api.ts';
import { button, byId, debounce, h } from './dom.ts';
import { actions } from './state.ts';
import type { RouteCheck } from './types.ts';

// Compose: a test message through the real pipeline (POST /api/compose), or an uploaded .eml
// (POST /api/messages as message/rfc822), with each recipient checked against the routes as you type.

function field(label: string, input: HTMLElement): HTMLElement {
  return h('label', { class: 'field' }, h('span', null, label), input);
}

function addressList(value: string): string[] {
  return value
    .split(/[,;\s]+/)
    .map((a) => a.trim())
    .filter(Boolean);
}

async function checkRecipients(from: string, to: string[], into: HTMLElement): Promise<void> {
  const lines = await Promise.all(
    to.slice(0, 20).map(async (rcpt) => {
      try {
        const qs = new URLSearchParams({ rcpt });
        if (from) qs.set('from', from);
        const r = await getJson<RouteCheck>(`/api/route?${qs}`);
        if (!r.accepted) {
          return h(
            'li',
            { class: 'bad' },
            `✗ ${rcpt}: ${r.rejected?.code ?? ''} ${r.rejected?.message ?? 'refused'}`,
          );
        }
        const routes = r.matched.map((m) => `${m.route}: ${m.actions.join(', ')}`).join('; ');
        return h('li', { class: 'ok' }, `✓ ${rcpt} → ${routes || 'accepted'}`);
      } catch (err) {
        return h('li', { class: 'note' }, `${rcpt}: not checked (${(err as Error).message})`);
      }
    }),
  );
  into.replaceChildren(...lines);
}

/** Base64 of a file's bytes, in chunks (String.fromCharCode takes a bounded argument list). */
async function base64(file: File): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function input(name: string, attrs: Record<string, string> = {}): HTMLInputElement {
  return h('input', { attrs: { name, id: `compose-${name}`, ...attrs } });
}

export function openCompose(): void {
  const dialog = byId('compose');
  const from = input('from', { value: 'dev@localhost.test', autocomplete: 'off' });
  const to = input('to', { value: 'support@example.com', autocomplete: 'off' });
  const cc = input('cc', { autocomplete: 'off' });
  const subject = input('subject');
  const text = h('textarea', { attrs: { name: 'text', id: 'compose-text', rows: '6' } });
  const html = h('textarea', { attrs: { name: 'html', id: 'compose-html', rows: '3' } });
  const files = input('attachments', { type: 'file', multiple: '' });
  const eml = input('eml', { type: 'file', accept: '.eml,message/rfc822' });
  const checks = h('ul', { class: 'checks', attrs: { id: 'compose-checks' } });
  const result = h('p', { class: 'note', attrs: { id: 'compose-result', role: 'status' } });
  const recheck = debounce(
    () => void checkRecipients(from.value.trim(), addressList(`${to.value},${cc.value}`), checks),
    250,
  );
  to.addEventListener('input', recheck);
  cc.addEventListener('input', recheck);
  recheck();

  const submit = async (event: Event) => {
    event.preventDefault();
    result.textContent = 'Sending…';
    try {
      const rcpts = addressList(to.value);
      const emlFile = eml.files?.[0];
      const answer = emlFile
        ? await uploadEml(emlFile, from.value.trim(), [...rcpts, ...addressList(cc.value)])
        : await send<{ id: string }>('POST', '/api/compose', {
            from: from.value.trim(),
            to: rcpts,
            cc: addressList(cc.value),
            subject: subject.value,
            text: text.value || undefined,
            html: html.value || undefined,
            attachments: await Promise.all(
              [...(files.files ?? [])].map(async (f) => ({
                filename: f.name,
                contentType: f.type || 'application/octet-stream',
                contentBase64: await base64(f),
              })),
            ),
          });
      closeCompose();
      actions.notify(`Sent: message ${answer?.id ?? ''}`);
      if (answer?.id) location.hash = enc(answer.id);
    } catch (err) {
      result.textContent = `Not sent: ${(err as Error).message}`;
      result.className = 'error';
    }
  };

  dialog.replaceChildren(
    h(
      'form',
      { attrs: { id: 'compose-form' }, on: { submit: (e) => void submit(e) } },
      h('h2', null, 'Compose a test message'),
      field('From', from),
      field('To', to),
      field('Cc', cc),
      checks,
      field('Subject', subject),
      field('Text', text),
      field('HTML', html),
      field('Attachments', files),
      field('…or send an .eml file instead', eml),
      h(
        'div',
        { class: 'actions' },
        h('button', { attrs: { type: 'submit', id: 'compose-send' } }, 'Send'),
        button('Cancel', closeCompose),
      ),
      result,
    ),
  );
  dialog.hidden = false;
  to.focus();
}

export function closeCompose(): void {
  byId('compose').hidden = true;
  byId('compose').replaceChildren();
}
