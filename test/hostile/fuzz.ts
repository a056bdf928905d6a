/**
 * The seeded fuzzer's pieces: a PRNG, message mutations (on corpus messages) and SMTP session scripts.
 * Everything is a pure function of the seed, so a failing case is reproduced with `MAILROOM_FUZZ_SEED`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** mulberry32: small, fast, good enough to pick mutations; the same seed gives the same run. */
export function prng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    next,
    int: (n) => Math.floor(next() * n),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
  };
  return rng;
}

export interface Rng {
  next(): number;
  /** 0 ≤ n < max */
  int(max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** Message files (up to 512 KiB) from the corpora: anything whose first line looks like a header. */
export function corpusMessages(dir: string | null, limit = 2000): Buffer[] {
  if (!dir) return [];
  const found: Buffer[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (found.length >= limit) return;
      const path = join(d, name);
      const stat = statSync(path);
      if (stat.isDirectory()) walk(path);
      else if (stat.size > 0 && stat.size < 512 * 1024 && /\.(eml|msg|txt|mbox)$/i.test(name)) {
        const bytes = readFileSync(path);
        // As an MTA would send it: CRLF line ends (the `bareLf` mutation undoes this on purpose).
        const text = bytes.toString('latin1');
        if (/^(?:From |[A-Za-z][A-Za-z0-9-]*:)/.test(text.slice(0, 200))) {
          found.push(Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1'));
        }
      }
    }
  };
  walk(dir);
  return found;
}

/** A few messages of our own, for when the corpora are absent. */
export const SEED_MESSAGES: readonly Buffer[] = [
  'From: Ada <ada@sender.test>\r\nTo: support@example.com\r\nSubject: Printer on fire\r\nMessage-ID: <1@sender.test>\r\n\r\nHelp!\r\n',
  'From: b@sender.test\r\nTo: support@example.com\r\nSubject: =?utf-8?B?w6TDtsO8?=\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="x"\r\n\r\n--x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n--x\r\nContent-Type: application/octet-stream; name="a.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n--x--\r\n',
  'From: c@sender.test\r\nSubject: Re: ticket\r\nIn-Reply-To: <1@sender.test>\r\nContent-Type: text/html\r\n\r\n<p>Thanks</p><blockquote>On Mon wrote: old</blockquote>\r\n',
  // legacy encodings (lib/message/legacy-attachments.ts): uuencode in the text, BinHex and TNEF parts
  'From: d@sender.test\r\nSubject: file\r\n\r\nhere:\r\nbegin 644 a.txt\r\n%:&5L;&\\`\r\n`\r\nend\r\nbye\r\n',
  'From: e@sender.test\r\nContent-Type: multipart/mixed; boundary="y"\r\n\r\n--y\r\nContent-Type: application/mac-binhex40\r\n\r\n(This file must be converted with BinHex 4.0)\r\n:#8*"!!!!:\r\n--y\r\nContent-Type: application/ms-tnef\r\nContent-Transfer-Encoding: base64\r\n\r\neJ8+IgEAAgKQBgAOAAAA\r\n--y--\r\n',
  // the charset decision: UTF-7 words and body, a raw 8-bit header, a UTF-8 part declared ISO-8859-1
  'From: =?utf-7?Q?J+APw-rgen?= <d@sender.test>\r\nSubject: Gr\u00fc\u00dfe\r\nContent-Type: multipart/alternative; boundary="y"\r\n\r\n--y\r\nContent-Type: text/plain; charset=utf-7\r\n\r\nFr+APY-sche +-\r\n--y\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n<p>Gr\u00fc\u00dfe</p>\r\n--y--\r\n',
].map((s) => Buffer.from(s));

/** End-of-DATA look-alikes (SMTP smuggling, CVE-2023-51764/5/6) and other framing bytes. */
const FRAMING = [
  '\n.\n',
  '\r.\r',
  '\r.\n',
  '\n.\r',
  '\n.\r\n',
  '\r\n.\n',
  '\r.\r\n',
  '\r\n.\r',
  '\r\n\0.\r\n',
  '\r\n.\0\r\n',
  '\r\n..\r\n',
  '\r',
  '\n',
  '\0',
];

type Mutation = (m: Buffer, rng: Rng) => Buffer;

const at = (m: Buffer, rng: Rng) => rng.int(m.length + 1);
const insert = (m: Buffer, pos: number, bytes: Buffer | string) =>
  Buffer.concat([m.subarray(0, pos), Buffer.from(bytes as string, 'latin1'), m.subarray(pos)]);
const headerEnd = (m: Buffer) => {
  const i = m.indexOf('\r\n\r\n');
  return i < 0 ? Math.min(m.length, 200) : i + 2;
};

/** Each mutation keeps the result bounded (at most ~21 MB, the 20 MB line case). */
export const MUTATIONS: Record<string, Mutation> = {
  flipBytes: (m, rng) => {
    const out = Buffer.from(m);
    for (let i = 0, n = 1 + rng.int(16); i < n && out.length; i++) out[rng.int(out.length)] = rng.int(256);
    return out;
  },
  framing: (m, rng) => insert(m, at(m, rng), rng.pick(FRAMING)),
  truncate: (m, rng) => m.subarray(0, rng.int(m.length + 1)),
  foldHeader: (m, rng) =>
    insert(m, 0, `Subject: folded\r\n${' x\r\n'.repeat(rng.pick([10, 1000, 20_000, 150_000]))}`),
  manyHeaders: (m, rng) =>
    insert(m, 0, `X-Junk: ${'y'.repeat(rng.int(40))}\r\n`.repeat(rng.pick([100, 3000, 50_000]))),
  longLine: (m, rng) =>
    insert(m, headerEnd(m) + 2, `${'a'.repeat(rng.pick([1000, 100_000, 2_000_000]))}\r\n`),
  longHeaderLine: (m, rng) => insert(m, 0, `X-Long: ${'b'.repeat(rng.pick([998, 70_000, 1_500_000]))}\r\n`),
  deepNesting: (m, rng) => {
    const depth = rng.pick([40, 500, 1000]);
    let head = 'MIME-Version: 1.0\r\n';
    let tail = '';
    for (let i = 0; i < depth; i++) {
      head += `Content-Type: multipart/mixed; boundary="n${i}"\r\n\r\n--n${i}\r\n`;
      tail = `\r\n--n${i}--\r\n${tail}`;
    }
    return Buffer.concat([Buffer.from(`From: d@sender.test\r\n${head}`), m, Buffer.from(tail)]);
  },
  boundaryMess: (m, rng) =>
    insert(
      m,
      at(m, rng),
      rng.pick([
        '\r\n--\r\n',
        '\r\n--x--\r\n',
        '\r\n--x\r\nContent-Type: multipart/mixed; boundary=""\r\n\r\n',
        '\r\n------\r\n',
      ]),
    ),
  encodedWords: (m, rng) =>
    insert(
      m,
      0,
      `Subject: ${'=?utf-8?Q?=0D=0AX-Injected:_1?= =?x-unknown?B?////?= =?utf-7?Q?+AGQ-?='.repeat(1 + rng.int(200))}\r\n`,
    ),
  dkimStorm: (m, rng) =>
    insert(
      m,
      0,
      'DKIM-Signature: v=1; a=rsa-sha256; d=sender.test; s=s; h=from; bh=AAAA; b=BBBB\r\n'.repeat(
        rng.pick([5, 50, 500]),
      ),
    ),
  forgedVerdicts: (m) =>
    insert(
      m,
      0,
      'Authentication-Results: mailroom.local; dmarc=pass; spf=pass\r\nX-SES-Spam-Verdict: PASS\r\n',
    ),
  contentParams: (m, rng) =>
    insert(
      m,
      0,
      `Content-Type: text/plain; ${Array.from({ length: rng.pick([10, 5000]) }, (_, i) => `p${i}*${i}="v"`).join('; ')}\r\n`,
    ),
  bareLf: (m) => Buffer.from(m.toString('latin1').replace(/\r\n/g, '\n'), 'latin1'),
  splice: (m, rng) => {
    const cut = rng.int(m.length + 1);
    return Buffer.concat([m.subarray(0, cut), m.subarray(rng.int(m.length + 1))]);
  },
  binary: (m, rng) =>
    insert(m, at(m, rng), Buffer.from(Array.from({ length: rng.int(4096) }, () => rng.int(256)))),
};

/** 1–3 mutations of a message; returns the names applied (for the report). */
export function mutate(message: Buffer, rng: Rng): { bytes: Buffer; applied: string[] } {
  const names = Object.keys(MUTATIONS);
  const applied: string[] = [];
  let bytes = message;
  for (let i = 0, n = 1 + rng.int(3); i < n; i++) {
    const name = rng.pick(names);
    applied.push(name);
    bytes = MUTATIONS[name]!(bytes, rng);
  }
  return { bytes, applied };
}

/** Dot-stuffs a message for DATA: a line starting with `.` gets another (only at CRLF line starts). */
export function dotStuff(message: Buffer): Buffer {
  const s = message.toString('latin1');
  return Buffer.from((s.startsWith('.') ? '.' : '') + s.replace(/\r\n\./g, '\r\n..'), 'latin1');
}

/** One SMTP session's bytes, in the order sent, with a note of where the client waits for replies. */
export interface SessionScript {
  /** Pieces to write; after a piece with `wait`, the client waits for that many more reply lines. */
  steps: Array<{ bytes: Buffer; wait: number }>;
  /** Close the socket right after the last step instead of waiting for the server to close it. */
  abort: boolean;
  notes: string[];
}

const RECIPIENTS = [
  'support@example.com',
  'support+fuzz@example.com',
  'postmaster@example.com',
  'nobody@example.com',
  'x@other.test',
  'SUPPORT@EXAMPLE.COM',
  '"quoted local"@example.com',
  'a@[127.0.0.1]',
];
const JUNK_COMMANDS = [
  'NOOP',
  'RSET',
  'HELP',
  'VRFY support',
  'EXPN list',
  'ETRN x',
  'BDAT 10',
  'AUTH PLAIN',
  'STARTTLS',
  'XCLIENT ADDR=1.2.3.4',
  'GET / HTTP/1.1',
  'MAIL FROM:<>',
  'RCPT TO:<>',
  'DATA',
  `MAIL FROM:<${'a'.repeat(600)}@x.test>`,
  'EHLO',
  'HELO',
  'mail from:<a@b.test> SIZE=99999999999',
  'MAIL FROM:<a@b.test> BODY=BINARYMIME',
  'RCPT TO:<support@example.com> NOTIFY=NEVER ORCPT=rfc822;x',
];

/**
 * A session that sends `message` (already mutated) the way a client might — sometimes correctly,
 * sometimes with junk commands, pipelining, odd case, split writes, or an abrupt close.
 */
export function sessionScript(message: Buffer, rng: Rng): SessionScript {
  const notes: string[] = [];
  const steps: SessionScript['steps'] = [];
  const line = (s: string, wait = 1) => steps.push({ bytes: Buffer.from(`${s}\r\n`, 'latin1'), wait });
  line(rng.chance(0.1) ? 'HELO fuzz.test' : rng.chance(0.1) ? 'ehlo FUZZ' : 'EHLO fuzz.test');
  for (let i = 0, n = rng.chance(0.3) ? rng.int(5) : 0; i < n; i++) line(rng.pick(JUNK_COMMANDS));
  const from = rng.pick(['fuzz@sender.test', '', 'bad address', 'x@sender.test']);
  const rcpts = Array.from({ length: 1 + rng.int(3) }, () =>
    rng.chance(0.7) ? 'support@example.com' : rng.pick(RECIPIENTS),
  );
  if (rng.chance(0.3)) {
    // RFC 2920: MAIL and the RCPTs pipelined in one write, DATA after their replies.
    notes.push('pipelined envelope');
    const batch = [`MAIL FROM:<${from}>`, ...rcpts.map((r) => `RCPT TO:<${r}>`)].join('\r\n');
    steps.push({ bytes: Buffer.from(`${batch}\r\n`, 'latin1'), wait: 1 + rcpts.length });
  } else {
    line(`MAIL FROM:<${from}>`);
    for (const r of rcpts) line(`RCPT TO:<${r}>`);
  }
  line('DATA');
  const body = Buffer.concat([
    dotStuff(message),
    Buffer.from(message.subarray(-2).equals(Buffer.from('\r\n')) ? '' : '\r\n'),
    Buffer.from('.\r\n'),
  ]);
  if (rng.chance(0.05)) {
    notes.push('abort mid-DATA');
    steps.push({ bytes: body.subarray(0, rng.int(body.length)), wait: 0 });
    return { steps, abort: true, notes };
  }
  if (rng.chance(0.2)) {
    // Split at random places (incl. inside CRLF.CRLF), each piece written on its own.
    notes.push('split writes');
    let pos = 0;
    while (pos < body.length) {
      const next = Math.min(body.length, pos + 1 + rng.int(Math.max(1, Math.min(body.length, 64 * 1024))));
      steps.push({ bytes: body.subarray(pos, next), wait: 0 });
      pos = next;
    }
    steps[steps.length - 1]!.wait = 1;
  } else {
    steps.push({ bytes: body, wait: 1 });
  }
  if (rng.chance(0.1)) {
    notes.push('pipelined after DATA');
    line('MAIL FROM:<again@sender.test>');
  }
  line('QUIT');
  return { steps, abort: false, notes };
}
