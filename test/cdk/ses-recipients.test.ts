import { describe, expect, it } from 'vitest';
import { sesRecipientsFor } from '../../cdk/ses-recipients.ts';
import { mailbox } from '../../lib/actions/builders.ts';

describe('sesRecipientsFor', () => {
  it('lists the exact addresses when every route is an exact address', () => {
    const routes = [
      { match: 'Support@Example.com', action: mailbox('support') },
      { match: ['billing@example.com', 'support@example.com'], action: mailbox('billing') },
    ];
    expect(sesRecipientsFor({ domains: ['example.com'], routes })).toEqual([
      'support@example.com',
      'billing@example.com',
    ]);
  });

  it.each([
    ['a capture', 'reply+{token}@example.com'],
    ['a wildcard', 'ticket-*@example.com'],
    ['a whole domain', { domain: 'example.com' }],
    ['a regular expression', /^invoice-\d+@example\.com$/],
    ['a domain pattern', '@example.com'],
  ])('falls back to the domains when a route matches %s', (_, match) => {
    const routes = [
      { match: 'support@example.com', action: mailbox('support') },
      { match, action: mailbox('other') },
    ];
    expect(sesRecipientsFor({ domains: ['Example.com', 'example.org'], routes })).toEqual([
      'example.com',
      'example.org',
    ]);
  });

  it('falls back to the domains beyond the 100 recipients a rule takes', () => {
    const routes = Array.from({ length: 101 }, (_, i) => ({
      match: `user${i}@example.com`,
      action: mailbox('m'),
    }));
    expect(sesRecipientsFor({ domains: ['example.com'], routes })).toEqual(['example.com']);
  });
});
