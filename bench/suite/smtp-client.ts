import { connect, type Socket } from 'node:net';

/**
 * A minimal SMTP client session for the latency bench: one connection, one transaction at a time (no
 * pipelining), resolving each message with its 250 reply's text. Lines are read as they come; a reply is
 * complete at its `ddd ` line.
 */
export class SmtpSession {
  readonly #socket: Socket;
  #buffer = '';
  #waiting: { resolve: (reply: string) => void; reject: (err: Error) => void } | null = null;
  #replyLines: string[] = [];
  #closed: Error | null = null;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => this.#onData(text));
    const fail = (err: Error) => {
      this.#closed ??= err;
      this.#waiting?.reject(err);
      this.#waiting = null;
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  /** Connects, reads the greeting and says EHLO. */
  static async open(port: number): Promise<SmtpSession> {
    const socket = connect({ host: '127.0.0.1', port });
    const session = new SmtpSession(socket);
    await session.#expect('220');
    await session.#command('EHLO client.test', '250');
    return session;
  }

  /** Sends one message; resolves with the final reply ("250 2.0.0 Ok: queued as …"). */
  async send(from: string, to: string, data: string): Promise<string> {
    await this.#command(`MAIL FROM:<${from}>`, '250');
    await this.#command(`RCPT TO:<${to}>`, '250');
    await this.#command('DATA', '354');
    return this.#command(data.endsWith('\r\n') ? `${data}.` : `${data}\r\n.`, '250');
  }

  close(): void {
    this.#socket.end('QUIT\r\n');
    this.#socket.destroy();
  }

  async #command(line: string, code: string): Promise<string> {
    const reply = this.#reply();
    this.#socket.write(`${line}\r\n`);
    return check(await reply, code);
  }

  async #expect(code: string): Promise<string> {
    return check(await this.#reply(), code);
  }

  #reply(): Promise<string> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#drain();
    });
  }

  #onData(text: string): void {
    this.#buffer += text;
    this.#drain();
  }

  #drain(): void {
    let eol = this.#buffer.indexOf('\r\n');
    while (eol >= 0 && this.#waiting) {
      const line = this.#buffer.slice(0, eol);
      this.#buffer = this.#buffer.slice(eol + 2);
      this.#replyLines.push(line);
      if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) {
        const reply = this.#replyLines.join('\n');
        this.#replyLines = [];
        const waiting = this.#waiting;
        this.#waiting = null;
        waiting.resolve(reply);
      }
      eol = this.#buffer.indexOf('\r\n');
    }
  }
}

function check(reply: string, code: string): string {
  const last = reply.split('\n').at(-1) ?? '';
  if (!last.startsWith(code)) throw new Error(`expected ${code}, got: ${last}`);
  return last;
}

/** A message of about `size` bytes with dot-stuffing not needed (no line starts with a dot). */
export function latencyMessage(i: number, size = 1024): string {
  const head = [
    `From: Sender ${i} <sender${i}@client.test>`,
    'To: support@example.com',
    `Subject: latency ${i}`,
    `Message-ID: <latency-${i}-${Date.now()}@client.test>`,
    `Date: ${new Date().toUTCString()}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
  ].join('\r\n');
  const line = 'The quick brown fox jumps over the lazy dog, again and again and again.\r\n';
  return `${head}\r\n${line.repeat(Math.max(1, Math.ceil((size - head.length) / line.length)))}`;
}
