import { describe, expect, it } from 'vitest';
import { extractReply } from '../../../lib/message/index.ts';

describe('extractReply: client sign-offs and titled signatures', () => {
  it('returns "Sent from my iPhone" as the signature, not in the text', () => {
    const text =
      'Hello\n\nSent from my iPhone\n\nOn Apr 3, 2012, at 4:19 PM, bob <bob@example.com> wrote:\n\n> Hi\n';
    expect(extractReply(text, null)).toEqual({
      text: 'Hello',
      signature: 'Sent from my iPhone',
      problems: [],
    });
  });

  it('puts the sign-off after a `-- ` signature', () => {
    const text = 'Works for me.\n\n-- \nAnn Example\n\nSent from my iPad\n';
    expect(extractReply(text, null).signature).toBe('Ann Example\nSent from my iPad');
  });

  it('splits a name over "via mobile"', () => {
    const text = 'I limited it to the homepage.\n\nStavros Example\nvia mobile\n';
    expect(extractReply(text, null)).toEqual({
      text: 'I limited it to the homepage.',
      signature: 'Stavros Example\nvia mobile',
      problems: [],
    });
  });

  it('splits a name, title and company over contact lines', () => {
    const text =
      'See you there.\n\nJohn E. Doe, Ph.D.\nPresident\nExample Research\njohn@example.com\nwww.example.com\n';
    expect(extractReply(text, null)).toEqual({
      text: 'See you there.',
      signature: 'John E. Doe, Ph.D.\nPresident\nExample Research\njohn@example.com\nwww.example.com',
      problems: [],
    });
  });

  it('leaves a closing paragraph of links, a question over contacts and a closing in the text', () => {
    for (const text of [
      'Have a look.\n\nThe two pages\nhttps://example.com/a\nhttps://example.com/b',
      'Can you write to one of these?\nann@example.com\nbob@example.com\ncarol@example.com',
      'It is example.com. Let me know.\n\nThank you,\nNoam',
      'The alert was sent via mobile.\n\nAnn',
    ]) {
      expect(extractReply(text, null)).toEqual({ text, signature: null, problems: [] });
    }
  });

  it('stays linear on a long run of heading-like lines', () => {
    const text = `Hi\n\n${'President\n'.repeat(90_000)}ann@example.com\n+1 555 0100 0000\n`;
    const reply = extractReply(text, null);
    expect(reply.signature).toBeNull();
    expect(reply.text.startsWith('Hi')).toBe(true);
  });
});
