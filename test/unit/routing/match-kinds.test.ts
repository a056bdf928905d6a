import { describe, expect, it } from 'vitest';
import { mailbox } from '../../../lib/actions/builders.ts';
import { createRouter, type RecipientPattern } from '../../../lib/routing/index.ts';

const domains = ['example.com', 'example.org', 'mail.example.net'];
const input = { mailFrom: 'sender@elsewhere.example' };

/** Decides one recipient against a single route; returns its params, or null when the route did not take it. */
function paramsFor(
  match: RecipientPattern | RecipientPattern[],
  recipient: string,
  extra: { caseSensitive?: boolean; subaddressSeparator?: string } = {},
): Record<string, string> | null {
  const router = createRouter({
    domains,
    routes: [{ name: 'r', match, action: mailbox('m'), caseSensitive: extra.caseSensitive }],
    subaddressSeparator: extra.subaddressSeparator,
  });
  const decision = router.decide(recipient, input);
  return decision.matches[0]?.params ?? null;
}

describe.each<{
  kind: string;
  pattern: RecipientPattern | RecipientPattern[];
  cases: [recipient: string, params: Record<string, string> | null][];
  options?: { caseSensitive?: boolean; subaddressSeparator?: string };
}>([
  {
    kind: 'exact address',
    pattern: 'support@example.com',
    cases: [
      ['support@example.com', {}],
      ['<support@example.com>', {}],
      ['SUPPORT@EXAMPLE.COM', {}],
      ['Support@Example.Com.', {}],
      ['"support"@example.com', {}],
      ['support@example.org', null],
      ['support2@example.com', null],
      ['xsupport@example.com', null],
    ],
  },
  {
    kind: 'exact address with subaddress',
    pattern: 'support@example.com',
    cases: [
      ['support+billing@example.com', { tag: 'billing' }],
      ['Support+Billing@example.com', { tag: 'Billing' }],
      ['support+a+b@example.com', { tag: 'a+b' }],
      ['support+@example.com', { tag: '' }],
      ['support-billing@example.com', null],
    ],
  },
  {
    kind: 'exact address, custom separator',
    pattern: 'support@example.com',
    options: { subaddressSeparator: '-' },
    cases: [
      ['support-billing@example.com', { tag: 'billing' }],
      ['support+billing@example.com', null],
      ['support@example.com', {}],
    ],
  },
  {
    kind: 'exact address, subaddressing off',
    pattern: 'support@example.com',
    options: { subaddressSeparator: '' },
    cases: [
      ['support+billing@example.com', null],
      ['support@example.com', {}],
    ],
  },
  {
    kind: 'exact address, case-sensitive local part',
    pattern: 'Support@Example.com',
    options: { caseSensitive: true },
    cases: [
      ['Support@example.com', {}],
      ['Support@EXAMPLE.COM', {}],
      ['support@example.com', null],
      ['Support+x@example.com', { tag: 'x' }],
    ],
  },
  {
    kind: 'single capture',
    pattern: 'reply+{token}@example.com',
    cases: [
      ['reply+abc123@example.com', { token: 'abc123' }],
      ['REPLY+AbC@example.com', { token: 'AbC' }],
      ['reply+@example.com', null],
      ['reply@example.com', null],
      ['replyx+abc@example.com', null],
      ['reply+a.b-c@example.com', { token: 'a.b-c' }],
    ],
  },
  {
    kind: 'several captures',
    pattern: '{user}.{dept}@example.com',
    cases: [
      ['ann.sales@example.com', { user: 'ann', dept: 'sales' }],
      ['ann.sales.eu@example.com', { user: 'ann', dept: 'sales.eu' }],
      ['ann@example.com', null],
    ],
  },
  {
    kind: 'capture with literal regex characters around it',
    pattern: 'a.b+{id}(x)@example.com',
    cases: [
      ['a.b+42(x)@example.com', { id: '42' }],
      ['aXb+42(x)@example.com', null],
      ['a.b+42x@example.com', null],
    ],
  },
  {
    kind: 'capture, case-sensitive',
    pattern: 'Ticket-{id}@example.com',
    options: { caseSensitive: true },
    cases: [
      ['Ticket-7@example.com', { id: '7' }],
      ['ticket-7@example.com', null],
    ],
  },
  {
    kind: 'local wildcard',
    pattern: 'ticket-*@example.com',
    cases: [
      ['ticket-123@example.com', {}],
      ['TICKET-@example.com', {}],
      ['ticket@example.com', null],
      ['ticket-1@example.org', null],
    ],
  },
  {
    kind: 'wildcard local part',
    pattern: '*@example.com',
    cases: [
      ['anyone@example.com', {}],
      ['anyone+tag@example.com', {}],
      ['anyone@example.org', null],
    ],
  },
  {
    kind: 'domain wildcard',
    pattern: 'info@*.example.net',
    cases: [
      ['info@mail.example.net', {}],
      ['INFO@MAIL.EXAMPLE.NET', {}],
      ['other@mail.example.net', null],
    ],
  },
  {
    kind: 'wildcards in local part and domain',
    pattern: '*@example.*',
    cases: [
      ['a@example.com', {}],
      ['b@example.org', {}],
      ['c@mail.example.net', null],
    ],
  },
  {
    kind: 'wildcard with capture',
    pattern: '*-{id}@example.com',
    cases: [
      ['order-5@example.com', { id: '5' }],
      ['-5@example.com', { id: '5' }],
      ['order@example.com', null],
    ],
  },
  {
    kind: 'regex with named groups',
    pattern: /^(?<user>[a-z]+)\+(?<n>\d+)@example\.com$/,
    cases: [
      ['bob+42@example.com', { user: 'bob', n: '42' }],
      ['bob+42@EXAMPLE.COM', { user: 'bob', n: '42' }],
      ['BOB+42@example.com', null],
      ['bob+x@example.com', null],
    ],
  },
  {
    kind: 'regex, case-insensitive flag, optional group',
    pattern: /^(?<user>[a-z]+)(?:\+(?<tag>.+))?@example\.(com|org)$/i,
    cases: [
      ['BOB@example.com', { user: 'BOB' }],
      ['bob+x@example.org', { user: 'bob', tag: 'x' }],
    ],
  },
  {
    kind: 'regex with the g flag stays stateless',
    pattern: /^bob@/g,
    cases: [
      ['bob@example.com', {}],
      ['bob@example.com', {}],
      ['bob@example.org', {}],
    ],
  },
  {
    kind: "whole domain '@example.com'",
    pattern: '@example.com',
    cases: [
      ['a@example.com', {}],
      ['A.B+c@EXAMPLE.com', {}],
      ['a@example.org', null],
    ],
  },
  {
    kind: 'whole domain { domain }',
    pattern: { domain: 'Example.ORG' },
    cases: [
      ['x@example.org', {}],
      ['x@example.com', null],
    ],
  },
  {
    kind: 'list of patterns (first that matches gives params)',
    pattern: ['sales@example.com', 'team-{name}@example.org'],
    cases: [
      ['sales@example.com', {}],
      ['team-eu@example.org', { name: 'eu' }],
      ['team-eu@example.com', null],
    ],
  },
])('$kind: $pattern', ({ pattern, cases, options }) => {
  it.each(cases)('%s → %j', (recipient, params) => {
    expect(paramsFor(pattern, recipient, options)).toEqual(params);
  });
});
