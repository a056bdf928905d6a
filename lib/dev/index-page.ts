/**
 * The plain page at `/`: messages newest first, refreshed live from `/api/events`.
 * Message data is only ever inserted with textContent (never as HTML).
 */
export function renderIndexPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Mailroom</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f5f5f5; }
.status-failed { color: #b00; } .status-processed { color: #070; }
code { font-size: 12px; }
</style>
</head>
<body>
<h1>Mailroom</h1>
<p>SMTP on this machine; send with <code>npx mailroom send file.eml --to support@example.com</code>.
API: <a href="/api/messages">/api/messages</a>. <span id="live"></span></p>
<label>Mailbox <input id="mailbox" placeholder="all"></label>
<table>
<thead><tr><th>Received</th><th>From</th><th>To (envelope)</th><th>Subject</th><th>Status</th><th>Deliveries</th><th></th></tr></thead>
<tbody id="rows"></tbody>
</table>
<script>
const rows = document.getElementById('rows');
const mailboxInput = document.getElementById('mailbox');
function cell(tr, text, cls) { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; tr.appendChild(td); return td; }
async function load() {
  const mb = mailboxInput.value.trim();
  const res = await fetch('/api/messages' + (mb ? '?mailbox=' + encodeURIComponent(mb) : ''));
  const { messages } = await res.json();
  rows.replaceChildren();
  for (const m of messages) {
    const tr = document.createElement('tr');
    cell(tr, new Date(m.receivedAt).toLocaleString());
    cell(tr, m.from ? (m.from.name ? m.from.name + ' <' + m.from.address + '>' : m.from.address) : m.envelope.mailFrom);
    cell(tr, m.envelope.rcptTo.join(', '));
    cell(tr, m.subject ?? '(no subject)');
    cell(tr, m.status, 'status-' + m.status);
    cell(tr, m.deliveries.map(d => d.route + ' → ' + (d.mailbox ?? d.action) + ': ' + d.status).join('\\n'));
    const links = cell(tr, '');
    for (const [label, href] of [['json', '/api/messages/' + m.id], ['raw', '/api/messages/' + m.id + '/raw']]) {
      const a = document.createElement('a'); a.href = href; a.textContent = label; links.append(a, ' ');
    }
    if (m.status === 'failed') {
      const b = document.createElement('button'); b.textContent = 'replay';
      b.onclick = () => replay(m.id, b); links.append(b);
    }
    rows.appendChild(tr);
  }
}
// The API refuses body-less POSTs without this header: a cross-site page cannot send it unpreflighted.
async function replay(id, button) {
  button.disabled = true;
  const res = await fetch('/api/messages/' + encodeURIComponent(id) + '/replay', { method: 'POST', headers: { 'X-Mailroom-Request': '1' } });
  if (res.ok) return load();
  button.textContent = 'replay refused: ' + ((await res.json()).error ?? res.status);
}
mailboxInput.addEventListener('change', load);
const events = new EventSource('/api/events');
events.onopen = () => { document.getElementById('live').textContent = '● live'; };
events.onerror = () => { document.getElementById('live').textContent = '○ reconnecting'; };
for (const type of ['message.received', 'message.processed', 'message.failed', 'delivery.updated']) events.addEventListener(type, load);
load();
</script>
</body>
</html>
`;
}
