import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import type { SmtpOptions } from '../../../lib/config/types.ts';
import type { Envelope } from '../../../lib/kernel/index.ts';
import type { RecipientVerdict } from '../../../lib/routing/types.ts';
import { createSmtpIngress } from '../../../lib/smtp/index.ts';
import { smtpDefaults } from '../../../lib/smtp/limits.ts';
import type { AcceptInput, SmtpIngress, SmtpIngressDeps } from '../../../lib/smtp/types.ts';
import { LocalRawStore, type LocalRawStoreOptions } from '../../../lib/store/local-raw-store.ts';
import { newMessageId } from '../../../lib/store/message-id.ts';

/** The test router: domain example.com; support (+tag) and postmaster exist. */
export function checkRecipient(rcpt: string): RecipientVerdict {
  const at = rcpt.lastIndexOf('@');
  const local = rcpt.slice(0, at).toLowerCase();
  const domain = rcpt.slice(at + 1).toLowerCase();
  if (domain !== 'example.com') return { accepted: false, code: 550, message: '5.7.1 Relaying denied' };
  if (local === 'postmaster' || local === 'support' || local.startsWith('support+'))
    return { accepted: true };
  return { accepted: false, code: 550, message: '5.1.1 No such user here' };
}

export const defaultSmtpOptions: Required<SmtpOptions> = {
  ...smtpDefaults,
  host: '127.0.0.1',
  port: 0,
  hostname: 'mx.test.example',
  maxMessageBytes: 1024 * 1024,
  maxRecipients: 100,
  socketTimeoutMs: 30_000,
  closeTimeoutMs: 5_000,
  greetingTimeoutMs: 30_000,
  mailTimeoutMs: 30_000,
  rcptTimeoutMs: 30_000,
  dataInitiationTimeoutMs: 30_000,
  dataBlockTimeoutMs: 30_000,
  dataTerminationTimeoutMs: 30_000,
};

export interface TestIngress {
  ingress: SmtpIngress;
  port: number;
  dir: string;
  store: LocalRawStore;
  accepted: Array<{ id: string; envelope: Envelope }>;
  /** Names of files in `<dir>/<sub>` (empty if missing), after writing out the journal. */
  files(sub: 'raw' | 'tmp'): Promise<string[]>;
  stop(): Promise<void>;
}

/** Prefix + body, the way a real accept() stores them. */
export async function* withPrefix(input: AcceptInput): AsyncGenerator<Buffer> {
  yield input.prefix;
  yield* input.body;
}

/** An ingress on an ephemeral port whose accept() stores into a LocalRawStore in a temp dir. */
export async function startTestIngress(
  opts: {
    smtp?: Partial<SmtpOptions>;
    accept?: (input: AcceptInput, store: LocalRawStore) => Promise<{ id: string }>;
    store?: LocalRawStoreOptions;
    tls?: SmtpIngressDeps['tls'];
    submission?: SmtpIngressDeps['submission'];
    logger?: SmtpIngressDeps['logger'];
  } = {},
): Promise<TestIngress> {
  const dir = await mkdtemp(join(tmpdir(), 'mailroom-smtp-'));
  const store = new LocalRawStore(dir, opts.store);
  const accepted: TestIngress['accepted'] = [];
  const ingress = createSmtpIngress({
    options: { ...defaultSmtpOptions, ...opts.smtp },
    tls: opts.tls ?? null,
    submission: opts.submission ?? null,
    ...(opts.logger ? { logger: opts.logger } : {}),
    checkRecipient,
    async accept(input) {
      if (opts.accept) return opts.accept(input, store);
      const id = newMessageId();
      await store.put(id, withPrefix(input));
      accepted.push({ id, envelope: input.envelope });
      return { id };
    },
  });
  const { port } = await ingress.listen();
  return {
    ingress,
    port,
    dir,
    store,
    accepted,
    async files(sub) {
      if (sub === 'raw') await store.checkpoint(); // journaled messages become files
      return readdir(join(dir, sub)).catch(() => []);
    },
    async stop() {
      await ingress.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  code: number;
  /** The whole reply, lines joined with '\n', without CRLF. */
  text: string;
  lines: string[];
}

/** A bare SMTP client over a socket, for protocol edges. */
export class RawSmtpClient {
  readonly socket: Socket;
  #buffer = '';
  #replies: Reply[] = [];
  #waiting: Array<(r: Reply | null) => void> = [];
  #ended = false;
  readonly closed: Promise<void>;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => this.#onData(d));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#ended = true;
        for (const w of this.#waiting.splice(0)) w(null);
        resolve();
      }),
    );
  }

  /** Connects and reads the greeting; `preface` (a PROXY header) is sent first. */
  static async connect(
    port: number,
    preface?: string | Buffer,
    localAddress?: string,
  ): Promise<{ client: RawSmtpClient; greeting: Reply }> {
    const socket = connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    if (preface) socket.write(preface);
    const client = new RawSmtpClient(socket);
    const greeting = await client.reply();
    return { client, greeting };
  }

  /** Connects, says EHLO and returns the EHLO reply. */
  static async open(
    port: number,
    helo = 'client.test',
    localAddress?: string,
  ): Promise<{ client: RawSmtpClient; ehlo: Reply }> {
    const { client } = await RawSmtpClient.connect(port, undefined, localAddress);
    const ehlo = await client.command(`EHLO ${helo}`);
    return { client, ehlo };
  }

  /**
   * After the server's `220` to STARTTLS: the TLS handshake over this connection. Returns the client of
   * the TLS session; plaintext the server sent after the `220` is never read.
   */
  async startTls(options: ConnectionOptions = {}): Promise<RawSmtpClient> {
    this.socket.removeAllListeners('data');
    const secure = tlsConnect({ socket: this.socket, rejectUnauthorized: false, ...options });
    await once(secure, 'secureConnect');
    return new RawSmtpClient(secure);
  }

  /** The next reply; rejects if the connection closes first. */
  reply(): Promise<Reply> {
    const next = this.#replies.shift();
    if (next) return Promise.resolve(next);
    if (this.#ended) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) =>
      this.#waiting.push((r) => (r ? resolve(r) : reject(new Error('connection closed')))),
    );
  }

  /** The next reply if one comes within `ms`, else null (and nothing is left waiting for one). */
  replyWithin(ms: number): Promise<Reply | null> {
    const next = this.#replies.shift();
    if (next) return Promise.resolve(next);
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter = (r: Reply | null) => {
        clearTimeout(timer);
        resolve(r);
      };
      const timer = setTimeout(() => {
        this.#waiting = this.#waiting.filter((w) => w !== waiter);
        resolve(null);
      }, ms);
      this.#waiting.push(waiter);
    });
  }

  /** True once the server has closed the connection. */
  get ended(): boolean {
    return this.#ended;
  }

  async command(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  /** Writes, waiting for the socket to drain if needed. */
  async writeAsync(data: string | Buffer): Promise<void> {
    if (!this.socket.write(data)) await new Promise((r) => this.socket.once('drain', r));
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends a whole transaction; `data` is sent as given (already dot-stuffed, ending with CRLF.CRLF). */
  async send(from: string, to: string[], data: string | Buffer): Promise<Reply> {
    await expectCode(this.command(`MAIL FROM:<${from}>`), 250);
    for (const rcpt of to) await expectCode(this.command(`RCPT TO:<${rcpt}>`), 250);
    await expectCode(this.command('DATA'), 354);
    this.write(data);
    return this.reply();
  }

  close(): void {
    this.socket.destroy();
  }

  #onData(data: string): void {
    this.#buffer += data;
    let lines: string[] = [];
    let nl = this.#buffer.indexOf('\r\n');
    while (nl >= 0) {
      const line = this.#buffer.slice(0, nl);
      this.#buffer = this.#buffer.slice(nl + 2);
      lines.push(line);
      if (/^\d{3}(?: |$)/.test(line)) {
        const reply = { code: Number(line.slice(0, 3)), text: lines.join('\n'), lines };
        lines = [];
        const waiter = this.#waiting.shift();
        if (waiter) waiter(reply);
        else this.#replies.push(reply);
      }
      nl = this.#buffer.indexOf('\r\n');
    }
    if (lines.length) this.#buffer = `${lines.join('\r\n')}\r\n${this.#buffer}`;
  }
}

export async function expectCode(reply: Promise<Reply>, code: number): Promise<Reply> {
  const r = await reply;
  if (r.code !== code) throw new Error(`expected ${code}, got: ${r.text}`);
  return r;
}
