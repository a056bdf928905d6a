import type { ListFilters } from './types.ts';

/** The API refuses state-changing requests without this header: a cross-site page cannot send it. */
const REQUEST_HEADERS = { 'X-Mailroom-Request': '1' };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function check(res: Response): Promise<Response> {
  if (res.ok) return res;
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: string };
    if (body.error) message = body.error;
  } catch {
    // not JSON: keep the status line
  }
  throw new ApiError(res.status, message);
}

export async function getJson<T>(path: string): Promise<T> {
  return (await (await check(await fetch(path))).json()) as T;
}

export async function getText(path: string): Promise<string> {
  return (await check(await fetch(path))).text();
}

/** A state-changing request (POST/PUT/DELETE) with an optional JSON body; the JSON answer or null. */
export async function send<T = unknown>(method: string, path: string, body?: unknown): Promise<T | null> {
  const headers: Record<string, string> = { ...REQUEST_HEADERS };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await check(
    await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }),
  );
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? (JSON.parse(text) as T) : null;
}

/** Uploads an .eml file as `message/rfc822` (the existing POST /api/messages). */
export async function uploadEml(file: Blob, from: string, to: string[]): Promise<{ id: string }> {
  const qs = new URLSearchParams({ from });
  for (const rcpt of to) qs.append('to', rcpt);
  const res = await check(
    await fetch(`/api/messages?${qs}`, {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822' },
      body: file,
    }),
  );
  return (await res.json()) as { id: string };
}

/** The query string of the listing filters (only those set). */
export function filterQuery(filters: ListFilters): URLSearchParams {
  const qs = new URLSearchParams();
  if (filters.mailbox) qs.set('mailbox', filters.mailbox);
  if (filters.status) qs.set('status', filters.status);
  if (filters.route) qs.set('route', filters.route);
  if (filters.failed) qs.set('failed', '1');
  if (filters.q.trim()) qs.set('q', filters.q.trim());
  return qs;
}

export const enc = encodeURIComponent;
