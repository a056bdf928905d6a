import type { ServerResponse } from 'node:http';

/**
 * Fans server-sent events out to every open `GET /api/events` response: the pipeline's events
 * (`message.received`, `delivery.updated`, …) and the dev API's own, so that every open page stays in step:
 * `message.deleted` `{id}` (or `{all: true}` after deleting everything) and `message.read` `{id, read}`.
 */
export class SseHub {
  readonly #clients = new Set<ServerResponse>();
  readonly #heartbeat: NodeJS.Timeout;

  /** @param heartbeatMs comment line sent to keep proxies from closing idle streams. @default 15_000 */
  constructor(heartbeatMs = 15_000) {
    this.#heartbeat = setInterval(() => this.#write(': ping\n\n'), heartbeatMs);
    this.#heartbeat.unref();
  }

  add(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write(': connected\n\n');
    this.#clients.add(res);
    res.on('close', () => this.#clients.delete(res));
  }

  send(event: string, data: unknown): void {
    if (this.#clients.size === 0) return;
    this.#write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  get size(): number {
    return this.#clients.size;
  }

  close(): void {
    clearInterval(this.#heartbeat);
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }

  #write(chunk: string): void {
    for (const res of this.#clients) res.write(chunk);
  }
}
