import {
  RSPAMD_ACTIONS,
  type RspamdAction,
  type ScanInput,
  ScannerError,
  type SpamScan,
  type SpamScanner,
} from './types.ts';

export interface RspamdOptions {
  /** The normal worker's base URL, e.g. `http://127.0.0.1:11333`. */
  url: string;
  /** Sent as the `Password` header when the worker asks for one. */
  password?: string;
}

/** At most this many symbol names are kept in a verdict. */
const MAX_SYMBOLS = 64;
/** rspamd's JSON reply is a few KB; a bigger one is not rspamd's (and is not parsed on the SMTP thread). */
const MAX_REPLY_BYTES = 256 * 1024;

/**
 * The `spam` port over rspamd's HTTP protocol (`POST /checkv2`, https://rspamd.com/doc/developers/protocol.html):
 * the message as the body, the SMTP facts as headers (`IP`, `Helo`, `From`, `Rcpt` once per recipient,
 * `Queue-Id`), so rspamd judges the real client rather than the headers the sender wrote.
 */
export function createRspamdScanner(options: RspamdOptions): SpamScanner {
  const endpoint = new URL('/checkv2', options.url).toString();
  return {
    name: 'rspamd',
    async check(input: ScanInput, signal: AbortSignal): Promise<SpamScan> {
      const headers = new Headers({ 'Content-Type': 'message/rfc822' });
      const { envelope } = input;
      if (envelope.remoteAddress) headers.set('IP', envelope.remoteAddress);
      if (envelope.helo) headers.set('Helo', headerSafe(envelope.helo));
      // rspamd reads an empty From as the null sender.
      headers.set('From', headerSafe(envelope.mailFrom));
      for (const rcpt of envelope.rcptTo) headers.append('Rcpt', headerSafe(rcpt));
      if (input.queueId) headers.set('Queue-Id', headerSafe(input.queueId));
      if (options.password) headers.set('Password', options.password);
      let response: Response;
      try {
        response = await fetch(endpoint, { method: 'POST', body: input.raw, headers, signal });
      } catch (err) {
        throw new ScannerError(`rspamd at ${options.url}: ${reason(err, signal)}`, { cause: err });
      }
      if (!response.ok) {
        await response.body?.cancel().catch(() => {});
        throw new ScannerError(`rspamd at ${options.url} answered HTTP ${response.status}`);
      }
      let text: string;
      try {
        text = await readLimited(response, MAX_REPLY_BYTES);
      } catch (err) {
        throw new ScannerError(`rspamd at ${options.url}: ${reason(err, signal)}`, { cause: err });
      }
      return parseRspamdReply(text, options.url);
    },
  };
}

/** Reads rspamd's `/checkv2` JSON. @throws ScannerError for anything else. */
export function parseRspamdReply(text: string, where = 'rspamd'): SpamScan {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ScannerError(`${where}: the reply is not JSON`);
  }
  if (value === null || typeof value !== 'object') throw new ScannerError(`${where}: unexpected reply`);
  const reply = value as Record<string, unknown>;
  const action = typeof reply.action === 'string' ? reply.action.trim().toLowerCase() : '';
  if (!(RSPAMD_ACTIONS as readonly string[]).includes(action)) {
    const error = typeof reply.error === 'string' ? `: ${reply.error.slice(0, 200)}` : '';
    throw new ScannerError(`${where}: no known action in the reply${error}`);
  }
  const symbols: { name: string; score: number }[] = [];
  if (reply.symbols && typeof reply.symbols === 'object') {
    for (const [name, symbol] of Object.entries(reply.symbols as Record<string, unknown>)) {
      const score = (symbol as { score?: unknown } | null)?.score;
      symbols.push({ name: name.slice(0, 100), score: typeof score === 'number' ? score : 0 });
    }
  }
  symbols.sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
  return {
    action: action as RspamdAction,
    score: finite(reply.score),
    requiredScore: finite(reply.required_score),
    symbols: symbols.slice(0, MAX_SYMBOLS).map((s) => s.name),
  };
}

function finite(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/**
 * An envelope value fit for an HTTP header: no control characters, and UTF-8 (SMTPUTF8 addresses) sent as
 * its bytes (fetch only takes byte strings).
 */
function headerSafe(value: string): string {
  const clean = [...value].filter((c) => c >= ' ' && c !== '\u007f').join('');
  return Buffer.from(clean.slice(0, 998), 'utf8').toString('latin1');
}

async function readLimited(response: Response, max: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new Error(`reply over ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

function reason(err: unknown, signal: AbortSignal): string {
  if (signal.aborted) return 'no answer in time';
  const cause = (err as { cause?: { code?: unknown; message?: unknown } })?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  return err instanceof Error ? err.message : String(err);
}
