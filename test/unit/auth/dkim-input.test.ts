import { Readable } from 'node:stream';
import { type DNSResolver, dkimVerify } from 'mailauth';
import { describe, expect, it } from 'vitest';
import { dkimInput } from '../../../lib/auth/dkim-limit.ts';
import { checkHeaderLimits, mailauthHeaderEnd } from '../../../lib/auth/header-limits.ts';
import { corpusMessages, mutate, prng, SEED_MESSAGES } from '../../hostile/fuzz.ts';
import { corporaDir } from '../../support/corpora.ts';

const noDns = (async (name: string) => {
  throw Object.assign(new Error(`no DNS in tests: ${name}`), { code: 'ENOTFOUND' });
}) as unknown as DNSResolver;

/** All mailauth's DKIM step reports, as data (what authenticate.ts reads of it and more). */
async function dkimReport(raw: Buffer): Promise<unknown> {
  const result = await dkimVerify(Readable.from([raw]), {
    resolver: noDns,
    sender: 'bounce@sender.test',
    curTime: new Date('2026-12-07T00:00:00Z'),
  });
  return JSON.parse(JSON.stringify(result));
}

const lf = (s: string) => Buffer.from(s.replaceAll('\r\n', '\n'), 'latin1');
const EDGES: Buffer[] = [
  // the first line empty: mailauth reads on to the next empty line, and so must the header it is given
  Buffer.from('\r\nFrom: a@sender.test\r\nDKIM-Signature: v=1; d=sender.test\r\n\r\nbody\r\n'),
  Buffer.from('\r\nFrom: a@sender.test\r\n\r\nbody\r\n'),
  lf('From: a@sender.test\r\nTo: b@example.com\r\n\r\nbare LF body\r\n'),
  Buffer.from('From: a@sender.test\n\r\nmixed line ends\r\n'),
  Buffer.from('From: a@sender.test\r\ndkim-SIGNATURE: v=1; d=sender.test; s=x; b=; bh=\r\n\r\nbody\r\n'),
  Buffer.from('From: a@sender.test\r\nArc-Seal: i=1; cv=none; d=sender.test\r\n\r\nbody\r\n'),
  Buffer.from('From: a@sender.test\r\nSubject: only a header, no empty line'),
  Buffer.from('From: a@sender.test\r\n\r\nDKIM-Signature: in the body is no signature\r\n'),
  Buffer.from('From: a@sender.test\r\nFrom: b@other.test\r\n\r\ntwo From fields\r\n'),
];

describe('dkimInput: the header alone when there is nothing to hash', () => {
  it('keeps the whole message when its header has a DKIM-Signature or ARC field, in any case', () => {
    for (const raw of EDGES.slice(4, 6)) expect(dkimInput(raw)).toBe(raw);
    expect(dkimInput(EDGES[0]!)).toBe(EDGES[0]); // the signature is in the header as mailauth reads it
  });

  it('ends the header where mailauth does', () => {
    expect(mailauthHeaderEnd(Buffer.from('A: 1\r\n\r\nbody'))).toBe(8);
    expect(mailauthHeaderEnd(Buffer.from('A: 1\n\nbody'))).toBe(6);
    expect(mailauthHeaderEnd(Buffer.from('\r\nA: 1\r\n\r\nbody'))).toBe(10);
    expect(mailauthHeaderEnd(Buffer.from('A: 1\r\nno end'))).toBe(12);
    expect(dkimInput(Buffer.from('A: 1\r\n\r\nbody')).toString()).toBe('A: 1\r\n\r\n');
  });

  it('gives mailauth the same report as the whole message (corpora, seeds, edges and seeded mutations)', async () => {
    const rng = prng(7);
    const base = [...corpusMessages(corporaDir(), 1500), ...SEED_MESSAGES, ...EDGES];
    const mutated = base.slice(0, 400).map((m) => mutate(m, rng).bytes);
    let shortened = 0;
    for (const raw of [...base, ...mutated]) {
      // as authenticate.ts: a header too complex for mailauth (superlinear there) is never given to it
      if (checkHeaderLimits(raw)) continue;
      const input = dkimInput(raw);
      if (input === raw) continue;
      shortened++;
      expect(await dkimReport(input), raw.toString('latin1', 0, 200)).toEqual(await dkimReport(raw));
    }
    // without the corpora (a user's machine) the seeds, edges and their mutations still count
    expect(shortened).toBeGreaterThan(corporaDir() ? 500 : 10);
  });
});
