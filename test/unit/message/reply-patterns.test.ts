import { describe, expect, it } from 'vitest';
import { endsWithColon, isBlank } from '../../../lib/message/reply-patterns.ts';
import { prng } from '../../hostile/fuzz.ts';

// Every character String.prototype.trim removes (ECMAScript WhiteSpace and LineTerminator), the invisible
// characters mail clients leave on empty lines, and a few visible ones, colons among them.
const SPACES = [
  ' ',
  '\t',
  '\n',
  '\v',
  '\f',
  '\r',
  '\u00a0',
  '\u1680',
  '\u2000',
  '\u2005',
  '\u200a',
  '\u2028',
  '\u2029',
  '\u202f',
  '\u205f',
  '\u3000',
  '\ufeff',
];
const INVISIBLES = ['\u1427', '\u200b', '\u200c', '\u200d', '\u200e', '\u200f', '\u2060', '\u00ad'];
const VISIBLE = ['a', 'Z', '1', ':', '：', '>', '-', 'é', '😀', '\u0085', '\u180e'];
const ALPHABET = [...SPACES, ...INVISIBLES, ...VISIBLE];

/** The definitions, spelled out: what the fast versions must agree with. */
const blankByDefinition = (line: string) =>
  [...line].every((ch) => ch.trim() === '' || INVISIBLES.includes(ch));
const colonByDefinition = (line: string) => /[:：]$/.test(line.trim());

function randomLines(seed: number, count: number): string[] {
  const rng = prng(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: rng.int(6) }, () =>
      rng.chance(0.8) ? rng.pick([...SPACES, ...INVISIBLES]) : rng.pick(ALPHABET),
    ).join(''),
  );
}

describe('reply line patterns', () => {
  it('isBlank: only whitespace and invisible characters, on 20,000 seeded random lines', () => {
    const lines = randomLines(17, 20_000);
    const mismatches = lines.filter((line) => isBlank(line) !== blankByDefinition(line));
    expect(mismatches).toEqual([]);
    // both outcomes were exercised
    expect(lines.filter((line) => isBlank(line)).length).toBeGreaterThan(1000);
    expect(lines.filter((line) => !isBlank(line)).length).toBeGreaterThan(1000);
  });

  it('isBlank: a visible character after invisible ones makes the line not blank', () => {
    expect(isBlank('\u200b\u2060 ')).toBe(true);
    expect(isBlank(' \u200bx')).toBe(false);
    expect(isBlank('\u00a0\u1427')).toBe(true);
    expect(isBlank('\u0085')).toBe(false); // NEL is no whitespace to trim()
  });

  it('endsWithColon: the line, trailing whitespace aside, ends with ":" or "：", on 20,000 seeded random lines', () => {
    const lines = randomLines(29, 20_000);
    const mismatches = lines.filter((line) => endsWithColon(line) !== colonByDefinition(line));
    expect(mismatches).toEqual([]);
    expect(lines.filter((line) => endsWithColon(line)).length).toBeGreaterThan(200);
  });

  it('endsWithColon: examples', () => {
    expect(endsWithColon('On Mon, Ann wrote:\u3000\r')).toBe(true);
    expect(endsWithColon('日付：')).toBe(true);
    expect(endsWithColon(':x')).toBe(false);
    expect(endsWithColon('')).toBe(false);
    expect(endsWithColon(' \t')).toBe(false);
  });
});
