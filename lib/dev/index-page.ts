import type { IncomingMessage, ServerResponse } from 'node:http';
import { webAssets } from './assets.ts';

/**
 * The page's CSP: scripts, styles and frames from this server only, no inline script or style, images also
 * as `data:` URLs; nothing may frame the page.
 */
export const PAGE_CSP =
  "default-src 'self'; img-src 'self' data:; frame-src 'self'; style-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * The page's HTML: a static skeleton that the script (lib/dev/web/) fills from the API and the event
 * stream. Nothing in it comes from a message: no server template can drift from the API.
 */
export function renderIndexPage(assets: { script: string; style: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Mailroom</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/${assets.style}">
<script type="module" src="/assets/${assets.script}"></script>
</head>
<body>
<header class="top">
<h1>Mailroom</h1>
<input id="search" type="search" placeholder="Search  (/)" aria-label="Search messages" autocomplete="off">
<span id="live" class="live">connecting…</span>
<button id="compose-open" type="button">Compose</button>
</header>
<nav class="filters" aria-label="Filters">
<select id="f-mailbox" aria-label="Mailbox"><option value="">All mailboxes</option></select>
<select id="f-status" aria-label="Status">
<option value="">Any status</option><option value="received">received</option>
<option value="processing">processing</option><option value="processed">processed</option>
<option value="failed">failed</option>
</select>
<input id="f-route" type="text" placeholder="Route" aria-label="Route">
<label><input id="f-failed" type="checkbox"> delivery failed</label>
<button id="delete-listed" type="button">Delete all…</button>
</nav>
<div class="layout">
<section class="list" aria-label="Messages">
<ul id="rows" role="listbox" aria-label="Messages, newest first"></ul>
<p id="empty" class="empty" hidden></p>
<button id="more" type="button" hidden>Load more</button>
</section>
<section id="view" class="view" aria-label="Message" hidden></section>
</div>
<section id="compose" class="compose" aria-label="Compose" hidden></section>
<div id="toast" class="toast" role="status" hidden></div>
</body>
</html>
`;
}

/** `GET /`: the page, never cached (it names the current asset files). */
export async function serveIndexPage(
  _deps: unknown,
  _req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body = renderIndexPage(await webAssets());
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'content-security-policy': PAGE_CSP,
    'cache-control': 'no-cache',
    'referrer-policy': 'no-referrer',
  });
  res.end(body);
}
