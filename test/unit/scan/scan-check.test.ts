import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../lib/config/index.ts';
import { mailbox } from '../../../lib/index.ts';
import {
  createClamavScanner,
  createScanCheck,
  parseRspamdReply,
  type RspamdAction,
  type ScanCheckOptions,
  ScannerError,
  type SpamScanner,
  scanSummary,
  type VirusScanner,
} from '../../../lib/scan/index.ts';

const envelope = { mailFrom: 'a@sender.test', rcptTo: ['support@example.com'], remoteAddress: '192.0.2.1' };
const input = { raw: Buffer.from('Subject: hi\r\n\r\nhello\r\n'), envelope };

const spam = (action: RspamdAction | Error): SpamScanner => ({
  name: 'rspamd',
  async check() {
    if (action instanceof Error) throw action;
    return { action, score: 3, requiredScore: 15, symbols: ['A', 'B'] };
  },
});
const virus = (found: string | null | Error): VirusScanner => ({
  name: 'clamav',
  async scan() {
    if (found instanceof Error) throw found;
    return { virus: found };
  },
});

const policy = {
  failMode: 'open',
  spamAction: 'reject',
  spamThreshold: 'add header',
  virusAction: 'reject',
} as const;

function check(over: Partial<ScanCheckOptions>) {
  return createScanCheck({ ...policy, spam: null, virus: null, ...over });
}
const withSpam = (s: SpamScanner, over: Partial<ScanCheckOptions> = {}) =>
  check({ spam: { scanner: s, timeoutMs: 1000 }, ...over });
const withVirus = (v: VirusScanner, over: Partial<ScanCheckOptions> = {}) =>
  check({ virus: { scanner: v, timeoutMs: 1000 }, ...over });

describe('the scan policy', () => {
  it.each<[RspamdAction, string]>([
    ['no action', 'pass'],
    ['greylist', 'gray'],
    ['add header', 'fail'],
    ['rewrite subject', 'fail'],
  ])('rspamd %s → spam %s, accepted', async (action, verdict) => {
    const decision = await withSpam(spam(action))(input);
    expect(decision).toEqual({
      spam: { verdict, scanner: 'rspamd', action, score: 3, requiredScore: 15, symbols: ['A', 'B'] },
      virus: null,
    });
  });

  it('refuses rspamd reject with 550 5.7.1 and soft reject with 451 4.7.1', async () => {
    expect(await withSpam(spam('reject'))(input)).toEqual({
      reject: { code: 550, message: '5.7.1 Message refused as spam' },
    });
    const soft = await withSpam(spam('soft reject'))(input);
    expect(soft.reject?.code).toBe(451);
    expect(soft.reject?.message).toMatch(/^4\.7\.1 /);
  });

  it('verdict-only keeps rejected spam as spam=fail', async () => {
    const decision = await withSpam(spam('reject'), { spamAction: 'verdict-only' })(input);
    expect(decision.reject).toBeUndefined();
    expect(!decision.reject && decision.spam?.verdict).toBe('fail');
  });

  it('a higher threshold lets add header pass', async () => {
    const decision = await withSpam(spam('add header'), { spamThreshold: 'reject' })(input);
    expect(!decision.reject && decision.spam?.verdict).toBe('pass');
  });

  it('refuses a virus with 554 5.7.1 naming it, or keeps it under verdict-only', async () => {
    expect(await withVirus(virus('Eicar-Test-Signature'))(input)).toEqual({
      reject: { code: 554, message: '5.7.1 Message refused: virus found (Eicar-Test-Signature)' },
    });
    expect(await withVirus(virus('X'), { virusAction: 'verdict-only' })(input)).toEqual({
      spam: null,
      virus: { verdict: 'fail', scanner: 'clamav', virus: 'X' },
    });
    expect(await withVirus(virus(null))(input)).toEqual({
      spam: null,
      virus: { verdict: 'pass', scanner: 'clamav' },
    });
  });

  it('fails open with temperror verdicts, or closed with 451 4.3.0', async () => {
    const down = new ScannerError('rspamd at http://127.0.0.1:1: ECONNREFUSED');
    expect(await withSpam(spam(down))(input)).toEqual({
      spam: { verdict: 'temperror', scanner: 'rspamd', error: down.message },
      virus: null,
    });
    expect(await withVirus(virus(down), { failMode: 'closed' })(input)).toEqual({
      reject: { code: 451, message: '4.3.0 Cannot scan the message now, try again later' },
    });
  });

  it('gives a scanner that never answers up at its deadline', async () => {
    const hung: SpamScanner = {
      name: 'rspamd',
      check: (_input, signal) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted'))),
        ),
    };
    const decision = await check({ spam: { scanner: hung, timeoutMs: 20 } })(input);
    expect(!decision.reject && decision.spam?.verdict).toBe('temperror');
  });
});

describe('parseRspamdReply', () => {
  it('reads the action, scores and symbols (highest first)', () => {
    const reply = JSON.stringify({
      action: 'reject',
      score: 15,
      required_score: 15,
      symbols: { LOW: { score: 0.1 }, GTUBE: { score: 0 }, HIGH: { score: 5 } },
    });
    expect(parseRspamdReply(reply)).toEqual({
      action: 'reject',
      score: 15,
      requiredScore: 15,
      symbols: ['HIGH', 'LOW', 'GTUBE'],
    });
  });

  it('refuses what is not rspamd', () => {
    expect(() => parseRspamdReply('<html>')).toThrow(ScannerError);
    expect(() => parseRspamdReply('{"error":"bad"}')).toThrow(/no known action.*bad/);
  });
});

describe('the clamd client (INSTREAM) against a fake clamd', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  /** A clamd that reads the INSTREAM framing and answers `answer(payload)`. */
  async function fakeClamd(answer: (payload: Buffer) => string): Promise<number> {
    server = createServer((socket) => {
      let data = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        data = Buffer.concat([data, chunk]);
        const command = 'zINSTREAM\0';
        if (data.length < command.length) return;
        expect(data.subarray(0, command.length).toString('latin1')).toBe(command);
        const parts: Buffer[] = [];
        let at = command.length;
        while (at + 4 <= data.length) {
          const size = data.readUInt32BE(at);
          if (size === 0) {
            socket.end(`${answer(Buffer.concat(parts))}\0`);
            return;
          }
          if (at + 4 + size > data.length) return;
          parts.push(data.subarray(at + 4, at + 4 + size));
          at += 4 + size;
        }
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  it('streams the whole message in chunks and reads FOUND / OK', async () => {
    const big = Buffer.alloc(200_000, 'a');
    big.write('EVIL', 150_000);
    const port = await fakeClamd((payload) =>
      payload.equals(big) ? 'stream: Evil.Test FOUND' : 'stream: OK',
    );
    const scanner = createClamavScanner({ host: '127.0.0.1', port });
    expect(await scanner.scan(big, AbortSignal.timeout(5000))).toEqual({ virus: 'Evil.Test' });
    expect(await scanner.scan(Buffer.from('x'), AbortSignal.timeout(5000))).toEqual({ virus: null });
  });

  it('reports clamd errors and a refused connection as ScannerError', async () => {
    const port = await fakeClamd(() => 'INSTREAM size limit exceeded. ERROR');
    const scanner = createClamavScanner({ host: '127.0.0.1', port });
    await expect(scanner.scan(Buffer.from('x'), AbortSignal.timeout(5000))).rejects.toThrow(/size limit/);
    server?.close();
    await new Promise((r) => setImmediate(r));
    await expect(scanner.scan(Buffer.from('x'), AbortSignal.timeout(5000))).rejects.toThrow(ScannerError);
  });
});

describe('scan config', () => {
  const base = { domains: ['example.com'], routes: [{ match: 'a@example.com', action: mailbox('a') }] };

  it('is off (null) unless a scanner is given, with defaults filled in otherwise', () => {
    expect(resolveConfig(base).scan).toBeNull();
    expect(
      resolveConfig({
        ...base,
        scan: { rspamd: { url: 'http://127.0.0.1:11333' }, clamav: { socket: '/s' } },
      }).scan,
    ).toEqual({
      rspamd: { url: 'http://127.0.0.1:11333', timeoutMs: 10_000 },
      clamav: { socket: '/s', timeoutMs: 10_000 },
      failMode: 'open',
      spamAction: 'reject',
      spamThreshold: 'add header',
      virusAction: 'reject',
    });
  });

  it('names every bad field', () => {
    expect(() =>
      resolveConfig({
        ...base,
        scan: {
          rspamd: { url: 'localhost:11333' },
          clamav: { host: 'x' },
          failMode: 'maybe',
          spamThreshold: 'spam',
        },
      }),
    ).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(
          /scan\.rspamd\.url: must be the http\(s\) URL[\s\S]*scan\.clamav: must be \{ host[\s\S]*scan\.failMode: must be 'open' or 'closed'[\s\S]*scan\.spamThreshold: must be one of rspamd's actions/,
        ),
      }),
    );
    expect(() => resolveConfig({ ...base, scan: {} })).toThrow(/scan: give rspamd, clamav or both/);
    expect(() =>
      resolveConfig({
        ...base,
        smtp: { dataTerminationTimeoutMs: 5000 },
        scan: { clamav: { socket: '/s', timeoutMs: 5000 } },
      }),
    ).toThrow(/scan\.clamav\.timeoutMs: must be shorter than smtp\.dataTerminationTimeoutMs \(5000\)/);
  });

  it('accepts when.spam and when.virus in routes, and refuses unknown words', () => {
    expect(() =>
      resolveConfig({
        ...base,
        routes: [{ match: 'a@example.com', when: { spam: 'fail' }, action: mailbox('q') }],
      }),
    ).not.toThrow();
    expect(() =>
      resolveConfig({
        ...base,
        routes: [{ match: 'a@example.com', when: { virus: 'bad' }, action: mailbox('q') }],
      }),
    ).toThrow(/routes\[0\]\.when\.virus/);
  });
});

describe('scanSummary (the start-up line)', () => {
  it('names the scanners and the policy, or nothing when scanning is off', () => {
    const base = { domains: ['example.com'], routes: [{ match: 'a@example.com', action: mailbox('a') }] };
    expect(scanSummary(resolveConfig(base).scan)).toBeNull();
    expect(
      scanSummary(
        resolveConfig({
          ...base,
          scan: {
            rspamd: { url: 'http://127.0.0.1:11333' },
            clamav: { host: '127.0.0.1', port: 3310 },
            spamAction: 'verdict-only',
          },
        }).scan,
      ),
    ).toBe(
      'scanning mail with rspamd at http://127.0.0.1:11333 and ClamAV at 127.0.0.1:3310 (fail-open, spam: verdict only)',
    );
  });
});
