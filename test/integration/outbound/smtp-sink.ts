import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/** One message the sink received. */
export interface SinkMessage {
  from: string;
  to: string[];
  raw: Buffer;
  user: string | undefined;
}

export interface SmtpSink {
  port: number;
  received: SinkMessage[];
  /** Refuse these recipients at RCPT with 550. */
  refuse: Set<string>;
  /** Fail the next N messages at the end of DATA with 451. */
  failNext: number;
  close(): Promise<void>;
}

/** A real SMTP server on 127.0.0.1:0 that keeps what it receives (AUTH PLAIN/LOGIN, user `relay`). */
export async function startSmtpSink(opts: { auth?: { user: string; pass: string } } = {}): Promise<SmtpSink> {
  const sink: Omit<SmtpSink, 'port' | 'close'> = { received: [], refuse: new Set(), failNext: 0 };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: opts.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    allowInsecureAuth: true,
    authOptional: !opts.auth,
    logger: false,
    onAuth(auth, _session, callback) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) {
        callback(null, { user: auth.username });
      } else {
        callback(Object.assign(new Error('5.7.8 Authentication failed'), { responseCode: 535 }));
      }
    },
    onRcptTo(address, _session, callback) {
      if (sink.refuse.has(address.address)) {
        callback(Object.assign(new Error('5.1.1 No such user'), { responseCode: 550 }));
      } else callback();
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (sink.failNext > 0) {
          sink.failNext -= 1;
          callback(Object.assign(new Error('4.3.0 Try again later'), { responseCode: 451 }));
          return;
        }
        const envelope = session.envelope;
        sink.received.push({
          from: envelope.mailFrom ? envelope.mailFrom.address : '',
          to: envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
          user: session.user as string | undefined,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return Object.assign(sink, {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
