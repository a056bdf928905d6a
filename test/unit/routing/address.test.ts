import { describe, expect, it } from 'vitest';
import { normalizeAddress, normalizeDomain, normalizeMailFrom } from '../../../lib/routing/index.ts';

describe('normalizeAddress', () => {
  it.each([
    ['plain', 'support@example.com', { local: 'support', domain: 'example.com' }],
    ['angle brackets', '<support@example.com>', { local: 'support', domain: 'example.com' }],
    ['spaces and brackets', '  < Support@Example.COM >  ', { local: 'Support', domain: 'example.com' }],
    ['domain case kept out, local case kept', 'JoHn@EXAMPLE.com', { local: 'JoHn', domain: 'example.com' }],
    ['trailing dot on domain', 'a@example.com.', { local: 'a', domain: 'example.com' }],
    ['split at the last @', '"a@b"@example.com', { local: 'a@b', domain: 'example.com' }],
    ['quoted local part', '"john doe"@example.com', { local: 'john doe', domain: 'example.com' }],
    ['quoted with escapes', '"a\\"b"@example.com', { local: 'a"b', domain: 'example.com' }],
    ['quoted plain atom', '"support"@example.com', { local: 'support', domain: 'example.com' }],
    ['source route dropped', '<@relay.example:user@example.com>', { local: 'user', domain: 'example.com' }],
    ['IDN domain to punycode', 'a@Bücher.example', { local: 'a', domain: 'xn--bcher-kva.example' }],
    ['domain literal', 'a@[192.0.2.1]', { local: 'a', domain: '[192.0.2.1]' }],
  ])('%s: %s', (_label, input, expected) => {
    const got = normalizeAddress(input);
    expect(got).toEqual({ ...expected, address: `${expected.local}@${expected.domain}` });
  });

  it.each([
    ['no @', 'support'],
    ['empty local', '@example.com'],
    ['empty domain', 'support@'],
    ['only a dot as domain', 'support@.'],
    ['empty', ''],
    ['null sender', '<>'],
    ['CRLF injection', 'a@example.com\r\nRCPT TO:<b@example.com>'],
    ['NUL byte', 'a\u0000b@example.com'],
    ['absurd length', `${'a'.repeat(300)}@example.com`],
    ['space in domain', 'a@exa mple.com'],
  ])('rejects %s', (_label, input) => {
    expect(normalizeAddress(input)).toBeNull();
  });
});

describe('normalizeDomain / normalizeMailFrom', () => {
  it.each([
    ['Example.COM', 'example.com'],
    ['example.com.', 'example.com'],
    [' example.com ', 'example.com'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['', ''],
    ['a@b', ''],
  ])('normalizeDomain(%j) = %j', (input, expected) => {
    expect(normalizeDomain(input)).toBe(expected);
  });

  it.each([
    ['', ''],
    ['<>', ''],
    [' <> ', ''],
    ['<Bob@Sender.EXAMPLE>', 'Bob@sender.example'],
    ['bob@sender.example.', 'bob@sender.example'],
    ['not-an-address', 'not-an-address'],
  ])('normalizeMailFrom(%j) = %j', (input, expected) => {
    expect(normalizeMailFrom(input)).toBe(expected);
  });
});
