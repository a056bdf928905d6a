import { describe, expect, it } from 'vitest';
import { normalizeSubject, type ThreadFields, threadId } from '../../../lib/message/index.ts';

function fields(overrides: Partial<ThreadFields>): ThreadFields {
  return {
    references: [],
    inReplyTo: null,
    messageId: null,
    subject: null,
    from: null,
    to: [],
    cc: [],
    ...overrides,
  };
}

describe('threadId', () => {
  it('is a 24-character hex string', () => {
    expect(threadId(fields({ messageId: '<a@example.com>' }))).toMatch(/^[0-9a-f]{24}$/);
  });

  it('uses the first reference (the root) when References is present', () => {
    const root = threadId(fields({ messageId: '<root@example.com>' }));
    const reply = threadId(
      fields({
        messageId: '<r2@example.com>',
        inReplyTo: '<r1@example.com>',
        references: ['<root@example.com>', '<r1@example.com>'],
      }),
    );
    expect(reply).toBe(root);
  });

  it('falls back to In-Reply-To, then to the own Message-ID', () => {
    const parent = threadId(fields({ messageId: '<parent@example.com>' }));
    expect(threadId(fields({ messageId: '<child@example.com>', inReplyTo: '<parent@example.com>' }))).toBe(
      parent,
    );
    expect(threadId(fields({ messageId: '<x@example.com>' }))).not.toBe(parent);
  });

  it('ignores the angle brackets of ids', () => {
    expect(threadId(fields({ messageId: 'root@example.com' }))).toBe(
      threadId(fields({ messageId: '<root@example.com>' })),
    );
  });

  it('uses the normalized subject and the sorted participants when there are no ids', () => {
    const ann = { address: 'Ann@Example.com', name: 'Ann' };
    const bob = { address: 'bob@example.com', name: '' };
    const first = threadId(fields({ subject: 'Quarterly report', from: ann, to: [bob] }));
    const reply = threadId(fields({ subject: 'RE: Re: quarterly   report', from: bob, to: [ann] }));
    const forward = threadId(fields({ subject: 'AW: WG: Quarterly report', from: bob, cc: [ann] }));
    expect(reply).toBe(first);
    expect(forward).toBe(first);
    const otherPeople = threadId(
      fields({ subject: 'Quarterly report', from: bob, to: [{ address: 'carl@example.com', name: '' }] }),
    );
    expect(otherPeople).not.toBe(first);
  });
});

describe('normalizeSubject', () => {
  it.each([
    ['Re: Hello', 'hello'],
    ['RE: re: Fwd: Hello', 'hello'],
    ['Fw: Hello', 'hello'],
    ['AW: WG: Hello', 'hello'],
    ['SV: VS: Hello', 'hello'],
    ['RE[2]: Hello', 'hello'],
    ['Re(3): Hello', 'hello'],
    ['  Hello   World ', 'hello world'],
    ['Reply needed', 'reply needed'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeSubject(input)).toBe(expected);
  });

  it('treats a missing subject as empty', () => {
    expect(normalizeSubject(null)).toBe('');
  });
});
