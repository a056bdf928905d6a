import { describe, expect, it } from 'vitest';
import { globMatch } from '../../../lib/routing/glob.ts';

describe('globMatch', () => {
  it.each([
    ['abc', 'abc', true],
    ['abc', 'abcd', false],
    ['abc', 'ab', false],
    ['*', '', true],
    ['*', 'anything', true],
    ['a*', 'a', true],
    ['a*c', 'abbbc', true],
    ['a*c', 'abbbd', false],
    ['*b*', 'abc', true],
    ['*b*', 'ac', false],
    ['a**c', 'ac', true],
    ['*.example.com', 'mail.example.com', true],
    ['*.example.com', 'example.com', false],
    ['[urgent]*', '[urgent] fix', true],
    ['a.c', 'abc', false],
  ])('%j vs %j → %s', (pattern, value, expected) => {
    expect(globMatch(pattern, value)).toBe(expected);
  });

  it('stays fast on hostile input', () => {
    const value = 'a'.repeat(50_000);
    const started = performance.now();
    expect(globMatch('*a*a*a*a*a*a*a*b', value)).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});
