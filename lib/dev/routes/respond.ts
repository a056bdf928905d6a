import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../errors.ts';
import { mediaType } from '../request-guard.ts';

/** The most rows one listing answers, whatever `?limit` asks: larger values are clamped to it. */
export const MAX_LIMIT = 500;

/** `?limit=N`: a positive integer clamped to MAX_LIMIT, or undefined when absent. */
export function limitParam(url: URL): number | undefined {
  const value = url.searchParams.get('limit');
  if (value === null) return undefined;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1) throw new HttpError(400, 'limit must be a positive integer');
  return Math.min(limit, MAX_LIMIT);
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(data),
  });
  res.end(data);
}

export function noContent(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}

/** Stored message bytes: never sniffed as HTML, never embedded by another origin. */
export function rawHeaders(length: number): Record<string, string | number> {
  return {
    'content-type': 'message/rfc822',
    'content-length': length,
    'cross-origin-resource-policy': 'same-origin',
  };
}

/**
 * The request's JSON body, at most `max` bytes: 415 unless it is `application/json`, 413 when larger,
 * 400 when it is not JSON.
 */
export async function readJson(req: IncomingMessage, max: number): Promise<unknown> {
  const type = mediaType(req);
  if (type !== 'application/json') {
    throw new HttpError(
      415,
      `send the body as Content-Type: application/json${type ? ` (got ${type.slice(0, 100)})` : ''}`,
    );
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) throw new HttpError(413, `body exceeds ${max} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new HttpError(413, `body exceeds ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'the body is not JSON');
  }
}
