import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SmtpReplyError } from '../../../lib/smtp/errors.ts';
import {
  ADAPTED_SMTP_SERVER_VERSION,
  adaptSmtpServer,
  type ClientConnection,
  type ConnectionRegistry,
  type ParserInput,
  type ReplyText,
  type SmtpServerHooks,
  smtpServerReplies,
} from '../../../lib/smtp/smtp-server-adapter.ts';
import { devCertificate, type TlsCredentials } from '../../../lib/tls/index.ts';
import { expectCode, RawSmtpClient } from '../../integration/smtp/helpers.ts';

// Pinned to the smtp-server version lib/smtp/smtp-server-adapter.ts was written for. Every hook it installs
// on smtp-server's internals is exercised here over a real socket; each assertion names its hook, so an
// upgrade that renames or changes one fails with the name of what to look at.

const hook = (name: string, what: string) => `smtp-server hook ${name}: ${what}`;

interface Started {
  port: number;
  registry: ConnectionRegistry;
  sessions: SMTPServerSession[];
}

const servers: SMTPServer[] = [];
const clients: RawSmtpClient[] = [];
let cert: TlsCredentials;

beforeAll(async () => {
  cert = await devCertificate(join(tmpdir(), `mailroom-adapter-${process.pid}`), 'mx.adapter.test');
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

async function start(
  onConnection: SmtpServerHooks['onConnection'],
  options: SMTPServerOptions = {},
  hooks: Omit<SmtpServerHooks, 'onConnection'> = {},
): Promise<Started> {
  const sessions: SMTPServerSession[] = [];
  const server = new SMTPServer({
    name: 'mx.adapter.test',
    logger: false,
    authOptional: true,
    hideSTARTTLS: true,
    hideENHANCEDSTATUSCODES: false,
    disableReverseLookup: true,
    closeTimeout: 100,
    onConnect(session, callback) {
      sessions.push(session);
      callback();
    },
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => callback(null, 'Ok'));
    },
    ...options,
  });
  servers.push(server);
  const registry = adaptSmtpServer(server, { onConnection, ...hooks });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { port: address.port, registry, sessions };
}

async function open(port: number): Promise<RawSmtpClient> {
  const { client } = await RawSmtpClient.open(port);
  clients.push(client);
  return client;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('smtp-server version', () => {
  it('is the one the adapter was written for', async () => {
    const path = new URL('../../../node_modules/smtp-server/package.json', import.meta.url);
    const { version } = JSON.parse(await readFile(path, 'utf8')) as { version: string };
    expect(
      version,
      `smtp-server is ${version}, lib/smtp/smtp-server-adapter.ts was written for ${ADAPTED_SMTP_SERVER_VERSION}: ` +
        'check each hook against the new source, then update ADAPTED_SMTP_SERVER_VERSION',
    ).toBe(ADAPTED_SMTP_SERVER_VERSION);
  });
});

describe('smtp-server hooks', () => {
  it('a hook whose member is gone fails at once, by name', () => {
    const server = new SMTPServer({ logger: false });
    Object.assign(server, { _handleProxy: undefined });
    const proxyHeader = { expectedFrom: () => true, read: async () => null };
    expect(() => adaptSmtpServer(server, { onConnection() {}, proxyHeader })).toThrow(
      'smtp-server hook server._handleProxy is missing or changed',
    );
  });

  it('server.connections: each connection is registered before its session starts, by session id', async () => {
    const seen: ClientConnection[] = [];
    const t = await start((connection) => seen.push(connection));
    const client = await open(t.port);
    expect(seen, hook('server.connections', 'onConnection was not called')).toHaveLength(1);
    const connection = seen[0]!;
    const session = t.sessions[0]!;
    expect(t.registry.byId(session.id), hook('server.connections', 'byId(session.id)')).toBe(connection);
    expect(t.registry.all(), hook('server.connections', 'all()')).toEqual([connection]);
    expect(connection.hostname, hook('connection.name', 'hostname')).toBe('mx.adapter.test');
    expect(connection.remoteAddress, hook('connection.remoteAddress', '')).toBe('127.0.0.1');
    await client.command('QUIT');
    await until(() => t.registry.byId(session.id) === undefined);
    expect(
      t.registry.byId(session.id),
      hook('server.connections', 'a closed connection stays'),
    ).toBeUndefined();
    expect(t.registry.all(), hook('server.connections', 'delete()')).toEqual([]);
  });

  it('connection.send: every reply passes the filters, the last one added first; send() does too', async () => {
    const order: string[] = [];
    let connection: ClientConnection | undefined;
    const t = await start((c) => {
      connection = c;
      c.filterReplies((code, text, next) => {
        order.push(`inner ${code}`);
        next(code, text);
      });
      c.filterReplies((code, text, next) => {
        order.push(`outer ${code}`);
        next(code, code === 250 && text === 'OK' ? 'Fine' : text);
      });
    });
    const client = await open(t.port);
    expect(order.slice(0, 2), hook('connection.send', 'the greeting did not pass the filters')).toEqual([
      'outer 220',
      'inner 220',
    ]);
    const noop = await client.command('NOOP');
    expect(noop.text, hook('connection.send', 'a filter could not reword a reply')).toBe('250 2.0.0 Fine');
    connection?.send(421, '4.3.2 Going away');
    expect((await client.reply()).text, hook('connection.send', 'send()')).toBe('421 4.3.2 Going away');
    expect(order.at(-1), hook('connection.send', 'send() bypassed the filters')).toBe('inner 421');
  });

  it('connection.send context: a text with its own enhanced code gets no second one', async () => {
    const t = await start(() => {}, {
      onRcptTo(address, _session, callback) {
        if (address.address.startsWith('own')) callback(new SmtpReplyError(550, '5.7.1 Relaying denied'));
        else callback(new SmtpReplyError(550, 'No such user'));
      },
    });
    const client = await open(t.port);
    await expectCode(client.command('MAIL FROM:<a@b.test>'), 250);
    const own = await client.command('RCPT TO:<own@c.test>');
    expect(own.text, hook('connection.send', 'the context argument no longer turns the code off')).toBe(
      '550 5.7.1 Relaying denied',
    );
    const plain = await client.command('RCPT TO:<plain@c.test>');
    expect(plain.text, hook('connection.send', 'the context argument')).toMatch(
      /^550 5\.\d\.\d No such user$/,
    );
  });

  it('parser.write, parser._write, parser._dataMode: the interceptor decides what the parser gets', async () => {
    const received: string[] = [];
    const intercepted: Array<{ bytes: string; inData: boolean }> = [];
    let parser: ParserInput | undefined;
    const t = await start((c) =>
      c.interceptInput((p) => {
        parser = p;
        return {
          received: (chunk) => received.push(chunk.toString('latin1')),
          intercept(chunk, done) {
            intercepted.push({ bytes: chunk.toString('latin1'), inData: p.inData });
            // Every command but NOOP reaches the parser.
            if (chunk.toString('latin1') === 'NOOP\r\n') done();
            else p.parse(chunk, done);
          },
        };
      }),
    );
    const client = await open(t.port);
    expect(received.join(''), hook('parser.write', 'received() did not see the bytes')).toContain('EHLO');
    expect(intercepted[0]?.bytes, hook('parser._write', 'intercept() did not get the chunk')).toMatch(
      /^EHLO/,
    );
    client.write('NOOP\r\n');
    expect(
      await client.replyWithin(300),
      hook('parser._write', 'a chunk not handed on was parsed'),
    ).toBeNull();
    await expectCode(client.command('MAIL FROM:<a@b.test>'), 250);
    await expectCode(client.command('RCPT TO:<c@d.test>'), 250);
    await expectCode(client.command('DATA'), 354);
    expect(parser?.inData, hook('parser._dataMode', 'inData after 354')).toBe(true);
    const reply = await client.command('Subject: x\r\n\r\nbody\r\n.');
    expect(reply.code, hook('parser._write', 'parse() of message data')).toBe(250);
    const message = intercepted.find(({ bytes }) => bytes.includes('body'));
    expect(message?.inData, hook('parser._dataMode', 'inData during DATA')).toBe(true);
    expect(parser?.inData, hook('parser._dataMode', 'inData after the end of DATA')).toBe(false);
    await client.command('QUIT');
    await until(() => parser?.closed === true);
    expect(parser?.closed, hook('parser.isClosed', 'closed once the connection ends')).toBe(true);
  });

  it('connection._createParser, secure, socket: STARTTLS brings a new parser, intercepted too', async () => {
    const parsers: ParserInput[] = [];
    let connection: ClientConnection | undefined;
    const t = await start(
      (c) => {
        connection = c;
        c.interceptInput((p) => {
          parsers.push(p);
          return { received() {}, intercept: (chunk, done) => p.parse(chunk, done) };
        });
      },
      { hideSTARTTLS: false, key: cert.key, cert: cert.cert },
    );
    const client = await open(t.port);
    expect(connection?.secure, hook('connection.secure', 'before STARTTLS')).toBe(false);
    const plainSocket = connection?.socket;
    await expectCode(client.command('STARTTLS'), 220);
    const secure = await client.startTls();
    clients.push(secure);
    await expectCode(secure.command('EHLO client.test'), 250);
    expect(parsers, hook('connection._createParser', 'no parser attached after STARTTLS')).toHaveLength(2);
    expect(parsers[0]?.closed, hook('parser.isClosed', 'the plaintext parser after STARTTLS')).toBe(true);
    expect(connection?.secure, hook('connection.secure', 'after STARTTLS')).toBe(true);
    expect(connection?.socket, hook('connection._socket', 'the TLS socket')).not.toBe(plainSocket);
    await expectCode(secure.command('MAIL FROM:<a@b.test>'), 250);
    expect(connection?.envelope?.mailFrom, hook('connection.session', 'envelope')).toMatchObject({
      address: 'a@b.test',
    });
  });

  it('connection._unrecognizedCommands: forgetBadCommands() lifts smtp-server’s limit of 10', async () => {
    const t = await start((c) =>
      c.filterReplies((code, text, next) => {
        if (code === 500) c.forgetBadCommands();
        next(code, text);
      }),
    );
    const client = await open(t.port);
    for (let i = 0; i < 12; i++) {
      const reply = await client.command('BOGUS');
      expect(reply.code, hook('connection._unrecognizedCommands', `bad command ${i + 1}`)).toBe(500);
    }
    // Without the reset, smtp-server still closes at 10 (so the hook above is what lifts it).
    const u = await start(() => {});
    const other = await open(u.port);
    const codes: number[] = [];
    for (let i = 0; i < 10; i++) codes.push((await other.command('BOGUS')).code);
    expect(codes.at(-1), hook('connection._unrecognizedCommands', 'smtp-server’s own limit')).toBe(421);
  });

  it('the idle timeout reply: recognised by smtpServerReplies.isIdleTimeout', async () => {
    const seen: Array<[number, ReplyText]> = [];
    const t = await start(
      (c) =>
        c.filterReplies((code, text, next) => {
          seen.push([code, text]);
          next(code, text);
        }),
      {
        socketTimeout: 200,
      },
    );
    const client = await open(t.port);
    await client.reply().catch(() => null);
    const timeouts = seen.filter(([code, text]) => smtpServerReplies.isIdleTimeout(code, text));
    expect(timeouts, hook('connection._onTimeout', `its reply: ${JSON.stringify(seen.at(-1))}`)).toHaveLength(
      1,
    );
  });

  it('AUTH before STARTTLS: recognised by smtpServerReplies.isStartTlsRequired', async () => {
    const codes: number[] = [];
    const t = await start(
      (c) =>
        c.filterReplies((code, text, next) => {
          codes.push(code);
          next(code, text);
        }),
      {
        hideSTARTTLS: false,
        key: cert.key,
        cert: cert.cert,
        authOptional: false,
        authMethods: ['PLAIN'],
        allowInsecureAuth: false,
        onAuth: (_auth, _session, callback) => callback(null, { user: 'x' }),
      },
    );
    const client = await open(t.port);
    await client.command('AUTH PLAIN AHVzZXIAcGFzcw==');
    expect(
      codes.some((code) => smtpServerReplies.isStartTlsRequired(code)),
      hook('connection.handler_AUTH', `codes: ${codes.join(' ')}`),
    ).toBe(true);
  });

  it('_handleProxy, _expectsProxyHeader: the hook reads the header and names the client', async () => {
    const read: Socket[] = [];
    const t = await start(
      () => {},
      {},
      {
        proxyHeader: {
          expectedFrom: (address) => address === '127.0.0.1',
          async read(socket) {
            read.push(socket);
            const line = await new Promise<string>((resolve) =>
              socket.once('data', (d: Buffer) => resolve(d.toString())),
            );
            if (line.startsWith('REFUSE')) {
              socket.destroy();
              throw new Error('refused');
            }
            return { address: '203.0.113.9', port: 4242 };
          },
        },
      },
    );
    const proxied = connect({ port: t.port, host: '127.0.0.1' });
    proxied.write('HELLO\r\n');
    await until(() => t.sessions.length === 1);
    proxied.destroy();
    expect(read, hook('_handleProxy', 'the hook never saw the socket')).toHaveLength(1);
    expect(t.sessions[0]?.remoteAddress, hook('_handleProxy', 'the client it named')).toBe('203.0.113.9');
    expect(t.sessions[0]?.id, hook('_handleProxy', 'a session id')).toMatch(/^[0-9a-v]{16}$/);

    const refused = connect({ port: t.port, host: '127.0.0.1' });
    refused.on('error', () => {});
    refused.write('REFUSE\r\n');
    await new Promise((resolve) => refused.once('close', resolve));
    expect(t.sessions, hook('_handleProxy', 'a refused socket reached the session')).toHaveLength(1);
  });

  it('_handleProxy: a socket the hook expects nothing from goes straight on', async () => {
    let asked = 0;
    const t = await start(
      () => {},
      {},
      {
        proxyHeader: {
          expectedFrom: () => false,
          read: async () => {
            asked++;
            return null;
          },
        },
      },
    );
    await open(t.port);
    expect(asked, hook('_handleProxy', 'read() was called for an unexpected socket')).toBe(0);
    expect(t.sessions[0]?.remoteAddress, hook('_handleProxy', 'pass-through')).toBe('127.0.0.1');
  });
});

describe('smtp-server hooks: greetingDelayMs (replaces connection.init)', () => {
  const EARLY = 'EHLO early.test\r\n';

  it('0: connectionReady at once; a client that talks with its connect is greeted, then served', async () => {
    const t = await start(() => {}, {}, { greetingDelayMs: 0 });
    const { client, greeting } = await RawSmtpClient.connect(t.port, EARLY);
    clients.push(client);
    expect(greeting.text, hook('connection.init', 'the greeting')).toBe('220 mx.adapter.test ESMTP');
    expect((await client.reply()).code, hook('connection.init', 'EHLO sent early')).toBe(250);
  });

  it('0, _onCommand: a command that arrives before a slow onConnect is done waits for the greeting', async () => {
    const seen: ClientConnection[] = [];
    const t = await start(
      (c) => seen.push(c),
      {
        // Lets the session start only once the server has read the client's EHLO (parsed at once).
        onConnect(session, callback) {
          t.sessions.push(session);
          const socket = seen[0]!.socket;
          const poll = () => (socket.bytesRead > 0 ? setImmediate(callback) : setTimeout(poll, 5));
          poll();
        },
      },
      { greetingDelayMs: 0 },
    );
    const { client, greeting } = await RawSmtpClient.connect(t.port, EARLY);
    clients.push(client);
    expect(greeting.code, hook('connection._onCommand', `first reply: ${greeting.text}`)).toBe(220);
    expect((await client.reply()).code, hook('connection._onCommand', 'the held EHLO')).toBe(250);
    expect((await client.command('NOOP')).code, hook('connection._onCommand', 'restored')).toBe(250);
  });

  it('> 0: a client that talks before the greeting gets 421 You talk too soon', async () => {
    const t = await start(() => {}, {}, { greetingDelayMs: 30_000 });
    const { client, greeting } = await RawSmtpClient.connect(t.port, EARLY);
    clients.push(client);
    expect(greeting.text, hook('connection._ready', 'an early talker')).toMatch(
      /^421 .*mx\.adapter\.test You talk too soon$/,
    );
    await client.closed;
  });

  it('> 0: the pause is ours, not smtp-server’s 100 ms: still silent later, and talking then is too soon', async () => {
    const t = await start(() => {}, {}, { greetingDelayMs: 30_000 });
    const socket = connect({ port: t.port, host: '127.0.0.1' });
    let heard = '';
    socket.on('data', (d: Buffer) => {
      heard += d.toString('latin1');
    });
    await new Promise((resolve) => socket.once('connect', resolve));
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(heard, hook('connection.init', 'greeted before the pause was over')).toBe('');
    socket.write(EARLY);
    await new Promise((resolve) => socket.once('close', resolve));
    expect(heard, hook('connection._ready', 'talking during the pause')).toMatch(
      /^421 .*You talk too soon\r\n$/,
    );
  });

  it('> 0: a client that waits for the greeting is served', async () => {
    const t = await start(() => {}, {}, { greetingDelayMs: 50 });
    const { client, greeting } = await RawSmtpClient.connect(t.port);
    clients.push(client);
    expect(greeting.code, hook('connection.connectionReady', 'after the pause')).toBe(220);
    expect((await client.command('EHLO patient.test')).code).toBe(250);
  });

  it('smtp-server’s own maxClients check stays: one client too many gets 421 at once', async () => {
    const t = await start(() => {}, { maxClients: 1 }, { greetingDelayMs: 0 });
    await open(t.port);
    const { client, greeting } = await RawSmtpClient.connect(t.port);
    clients.push(client);
    expect(greeting.text, hook('connection.init', 'maxClients')).toMatch(/Too many connected clients/);
  });
});
