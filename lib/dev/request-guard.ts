import type { IncomingMessage } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { HttpError } from './errors.ts';

/**
 * What the dev API refuses, so that a web page the developer happens to visit can neither read it through
 * DNS rebinding nor make it act through a cross-site request (see README, "Dev HTTP API").
 */

/** The header a body-less state-changing request (replay) must carry: browsers preflight custom headers. */
export const REQUEST_HEADER = 'x-mailroom-request';

/** What a state-changing route needs to prove that a browser preflighted it (or that no browser sent it). */
export type RequestProof = 'message/rfc822' | typeof REQUEST_HEADER;

/** Content types a cross-site form or `no-cors` fetch can send without a CORS preflight. */
const SIMPLE_TYPES = new Set(['', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']);

const HOST_SHAPE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

/** The hostname of a Host header value as a browser spells it (`[::1]`, `127.0.0.1`, lowercase), or null. */
function hostnameOf(host: string): string | null {
  if (!HOST_SHAPE.test(host)) return null;
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return null;
  }
}

/** localhost and *.localhost (RFC 6761: always loopback in browsers), 127.0.0.0/8 and [::1]. */
export function isLoopbackHostname(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    (isIPv4(hostname) && hostname.startsWith('127.'))
  );
}

/**
 * Hostnames besides loopback that the server answers to: the configured `http.host` when it is not a
 * loopback one, and for a wildcard bind (`0.0.0.0`, `::`) the machine's own interface addresses, so that
 * `http://<LAN address>:8025` works. Other names stay refused: a name is what DNS rebinding spoofs.
 */
export function configuredHostnames(configHost: string): Set<string> {
  const spelled = isIPv6(configHost) ? `[${configHost}]` : configHost;
  const hostname = hostnameOf(spelled);
  if (hostname === null) return new Set();
  if (hostname !== '0.0.0.0' && hostname !== '[::]') return new Set([hostname]);
  const own = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const { address, family } of list ?? []) {
      const one = hostnameOf(family === 'IPv6' ? `[${address}]` : address);
      if (one) own.add(one);
    }
  }
  return own;
}

/** Refuses (403) a request whose `Host` is not loopback or the configured host: DNS rebinding defence. */
export function checkHost(req: IncomingMessage, configHost: string): void {
  const host = req.headers.host ?? '';
  const hostname = hostnameOf(host);
  if (hostname !== null && (isLoopbackHostname(hostname) || configuredHostnames(configHost).has(hostname))) {
    return;
  }
  throw new HttpError(
    403,
    `Host ${JSON.stringify(host.slice(0, 100))} refused: the dev API answers only localhost, 127.0.0.1, [::1] and its configured host`,
  );
}

/** GET, HEAD and OPTIONS change nothing; every other method is checked by `checkStateChange`. */
export function isStateChanging(method: string | undefined): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
}

/** Whether `Origin` names this server (the origin of the request's own, already checked, `Host`). */
function isOwnOrigin(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    return (
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      url.origin === origin.toLowerCase() &&
      url.host === new URL(`http://${host}`).host
    );
  } catch {
    return false; // includes `Origin: null` (sandboxed frames, file: pages, some redirects)
  }
}

/** Refuses (403) a state-changing request that a browser sent from another origin or site. */
export function checkOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin !== undefined && !isOwnOrigin(origin, req.headers.host ?? '')) {
    throw new HttpError(403, `cross-origin request refused: Origin ${JSON.stringify(origin.slice(0, 100))}`);
  }
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new HttpError(
      403,
      `cross-site request refused: Sec-Fetch-Site ${JSON.stringify(site.slice(0, 20))}`,
    );
  }
}

/** The media type of the request body, lowercase without parameters ('' when absent). */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Refuses what a cross-site page can send without a preflight: a POST /api/messages body that is not
 * `message/rfc822` (simple types 403, others 415), a body-less POST without `X-Mailroom-Request: 1`.
 */
export function checkProof(req: IncomingMessage, proof: RequestProof): void {
  if (proof === REQUEST_HEADER) {
    if (req.headers[REQUEST_HEADER] === '1') return;
    throw new HttpError(403, 'refused: send the header X-Mailroom-Request: 1 with this request');
  }
  const type = mediaType(req);
  if (type === proof) return;
  throw new HttpError(
    SIMPLE_TYPES.has(type) ? 403 : 415,
    `refused: send the message with Content-Type: ${proof}${type ? ` (got ${type.slice(0, 100)})` : ''}`,
  );
}
