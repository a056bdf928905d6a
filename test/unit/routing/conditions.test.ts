import { describe, expect, it } from 'vitest';
import { mailbox } from '../../../lib/actions/builders.ts';
import { createRouter, type RouteConditions, type RoutingInput } from '../../../lib/routing/index.ts';

type Message = NonNullable<RoutingInput['message']>;

const message = (over: Partial<Message> = {}): Message => ({
  from: { address: 'Alice@Partner.EXAMPLE' },
  subject: '[Urgent] Server down',
  headers: [
    { key: 'x-priority', value: '1' },
    { key: 'list-id', value: '<dev.lists.example>' },
    { key: 'received', value: 'from a' },
    { key: 'received', value: 'from b' },
  ],
  ...over,
});

/** true when the single conditional route takes `ops@example.com` at processing time. */
function decides(when: RouteConditions, input: RoutingInput): boolean {
  const router = createRouter({
    domains: ['example.com'],
    routes: [{ name: 'cond', match: 'ops@example.com', when, action: mailbox('ops') }],
  });
  return router.decide('ops@example.com', input).matches.length === 1;
}

/** The RCPT-time verdict for the same route (no message yet). */
function acceptsAtRcpt(when: RouteConditions, mailFrom: string): boolean {
  const router = createRouter({
    domains: ['example.com'],
    routes: [{ name: 'cond', match: 'ops@example.com', when, action: mailbox('ops') }],
  });
  return router.checkRecipient('ops@example.com', { mailFrom }).accepted;
}

describe('conditions at processing time', () => {
  it.each<[string, RouteConditions, RoutingInput, boolean]>([
    // sender (envelope MAIL FROM)
    ['sender exact', { sender: 'bob@sender.example' }, { mailFrom: 'bob@sender.example' }, true],
    ['sender case-insensitive', { sender: 'BOB@Sender.Example' }, { mailFrom: 'bob@sender.example' }, true],
    ['sender with brackets', { sender: 'bob@sender.example' }, { mailFrom: '<bob@sender.example>' }, true],
    ['sender wildcard', { sender: '*@sender.example' }, { mailFrom: 'carol@sender.example' }, true],
    ['sender wildcard miss', { sender: '*@sender.example' }, { mailFrom: 'carol@other.example' }, false],
    ['sender whole-value', { sender: 'sender.example' }, { mailFrom: 'bob@sender.example' }, false],
    [
      'sender list, second matches',
      { sender: ['a@x.example', '*@sender.example'] },
      { mailFrom: 'b@sender.example' },
      true,
    ],
    ['sender empty list matches nothing', { sender: [] }, { mailFrom: 'b@sender.example' }, false],
    ['sender regex', { sender: /@sender\.example$/ }, { mailFrom: 'b@SENDER.example' }, true],
    ['sender regex as given (case)', { sender: /^B@/ }, { mailFrom: 'b@sender.example' }, false],
    ["null sender '' matches ''", { sender: '' }, { mailFrom: '' }, true],
    ["null sender '<>' matches ''", { sender: '<>' }, { mailFrom: '' }, true],
    ["null sender '' matches '<>'", { sender: '' }, { mailFrom: '<>' }, true],
    ['null sender does not match an address pattern', { sender: '*@*' }, { mailFrom: '' }, false],
    ["'' does not match a real sender", { sender: '<>' }, { mailFrom: 'bob@sender.example' }, false],
    // from (header)
    [
      'from exact, case-insensitive',
      { from: 'alice@partner.example' },
      { mailFrom: '', message: message() },
      true,
    ],
    ['from wildcard', { from: '*@partner.example' }, { mailFrom: '', message: message() }, true],
    ['from list', { from: ['x@y.example', 'alice@*'] }, { mailFrom: '', message: message() }, true],
    ['from regex', { from: /^alice@partner\.example$/i }, { mailFrom: '', message: message() }, true],
    ['from miss', { from: '*@other.example' }, { mailFrom: '', message: message() }, false],
    ['from absent never matches', { from: '*' }, { mailFrom: '', message: message({ from: null }) }, false],
    // subject
    [
      'subject exact, case-insensitive',
      { subject: '[urgent] server down' },
      { mailFrom: '', message: message() },
      true,
    ],
    ['subject wildcard', { subject: '[urgent]*' }, { mailFrom: '', message: message() }, true],
    ['subject whole-value', { subject: 'urgent' }, { mailFrom: '', message: message() }, false],
    ['subject contains via wildcards', { subject: '*server*' }, { mailFrom: '', message: message() }, true],
    ['subject regex', { subject: /Server down$/ }, { mailFrom: '', message: message() }, true],
    [
      'subject regex is case-sensitive as given',
      { subject: /server down$/ },
      { mailFrom: '', message: message() },
      false,
    ],
    ['subject null is empty', { subject: '' }, { mailFrom: '', message: message({ subject: null }) }, true],
    [
      'subject null vs pattern',
      { subject: '*down' },
      { mailFrom: '', message: message({ subject: null }) },
      false,
    ],
    // headers
    ['header exact', { headers: { 'X-Priority': '1' } }, { mailFrom: '', message: message() }, true],
    [
      'header name case-insensitive',
      { headers: { 'LIST-ID': '*dev.lists.example*' } },
      { mailFrom: '', message: message() },
      true,
    ],
    [
      'header value case-insensitive',
      { headers: { 'list-id': '<DEV.LISTS.EXAMPLE>' } },
      { mailFrom: '', message: message() },
      true,
    ],
    [
      'repeated header, second value',
      { headers: { received: 'from b' } },
      { mailFrom: '', message: message() },
      true,
    ],
    [
      'repeated header, no value matches',
      { headers: { received: 'from c' } },
      { mailFrom: '', message: message() },
      false,
    ],
    ['header regex', { headers: { 'x-priority': /^[12]$/ } }, { mailFrom: '', message: message() }, true],
    [
      'absent header never matches',
      { headers: { 'x-missing': '*' } },
      { mailFrom: '', message: message() },
      false,
    ],
    [
      'header keys in message are compared case-insensitively',
      { headers: { 'x-a': 'v' } },
      { mailFrom: '', message: message({ headers: [{ key: 'X-A', value: 'v' }] }) },
      true,
    ],
    [
      'every header must hold',
      { headers: { 'x-priority': '1', 'list-id': 'nope' } },
      { mailFrom: '', message: message() },
      false,
    ],
    // combined (all must hold)
    [
      'all conditions hold',
      {
        sender: '*@sender.example',
        from: '*@partner.example',
        subject: '*down',
        headers: { 'x-priority': '1' },
      },
      { mailFrom: 'b@sender.example', message: message() },
      true,
    ],
    [
      'one condition fails',
      { sender: '*@sender.example', subject: '*up' },
      { mailFrom: 'b@sender.example', message: message() },
      false,
    ],
    [
      'no message at processing time: judged against an empty message',
      { subject: '*down' },
      { mailFrom: '' },
      false,
    ],
  ])('%s', (_label, when, input, expected) => {
    expect(decides(when, input)).toBe(expected);
  });
});

describe('conditions at RCPT time (no message yet)', () => {
  it.each<[string, RouteConditions, string, boolean]>([
    ['sender is evaluated (match)', { sender: '*@sender.example' }, 'b@sender.example', true],
    ['sender is evaluated (miss)', { sender: '*@sender.example' }, 'b@other.example', false],
    ['null sender evaluated', { sender: '<>' }, '', true],
    ['from may match', { from: 'nobody@nowhere.example' }, 'b@sender.example', true],
    ['subject may match', { subject: 'never' }, 'b@sender.example', true],
    ['headers may match', { headers: { 'x-never': 'never' } }, 'b@sender.example', true],
    ['sender miss beats content "maybe"', { sender: 'a@a.example', subject: '*' }, 'b@sender.example', false],
  ])('%s', (_label, when, mailFrom, expected) => {
    expect(acceptsAtRcpt(when, mailFrom)).toBe(expected);
  });
});
