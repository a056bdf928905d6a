import { describe, expect, it } from 'vitest';
import { drop, mailbox, reject } from '../../../lib/actions/builders.ts';
import {
  createRouter,
  type RecipientDecision,
  type Route,
  RouteConfigError,
  RoutingError,
  type RoutingInput,
} from '../../../lib/routing/index.ts';

const withMessage = (subject: string): RoutingInput => ({
  mailFrom: 'bob@sender.example',
  message: { from: { address: 'bob@sender.example' }, subject, headers: [] },
});
const plain: RoutingInput = { mailFrom: 'bob@sender.example' };

const routes: Route[] = [
  { name: 'support', match: 'support@example.com', action: mailbox('support') },
  { name: 'replies', match: 'reply+{token}@example.com', action: mailbox('replies') },
  {
    name: 'blocked',
    match: 'noreply@example.com',
    action: reject(550, '5.7.1 This address does not take mail'),
  },
  { name: 'busy', match: 'busy@example.com', action: reject(450, '4.2.1 Mailbox busy, try later') },
  { name: 'archive', match: 'sales@example.com', action: mailbox('archive'), continue: true },
  { match: 'sales@example.com', action: mailbox('sales') },
  { name: 'never', match: 'sales@example.com', action: mailbox('never') },
  {
    name: 'spam',
    match: 'info@example.com',
    when: { subject: '*viagra*' },
    action: reject(550, '5.7.1 Spam'),
  },
  { name: 'info', match: 'info@example.com', action: mailbox('info') },
  {
    name: 'only-partner',
    match: 'partner@example.com',
    when: { sender: '*@partner.example' },
    action: mailbox('p'),
  },
  { name: 'vip', match: 'desk@example.com', when: { subject: 'vip*' }, action: mailbox('vip') },
  { name: 'drop-bounces', match: 'bounces@example.com', action: drop() },
];
const router = createRouter({ domains: ['example.com', 'Example.ORG'], routes });

describe('checkRecipient (RCPT time)', () => {
  it.each<[string, string, RoutingInput, { accepted: boolean; code?: number; startsWith?: string }]>([
    ['exact route', 'support@example.com', plain, { accepted: true }],
    ['subaddress', 'support+x@example.com', plain, { accepted: true }],
    ['capture route', 'reply+tok@example.com', plain, { accepted: true }],
    ['brackets and odd case', '<SUPPORT@Example.Com.>', plain, { accepted: true }],
    [
      'unknown user → 5.1.1',
      'nobody@example.com',
      plain,
      { accepted: false, code: 550, startsWith: '5.1.1' },
    ],
    [
      'unknown user on second domain',
      'support@example.org',
      plain,
      { accepted: false, code: 550, startsWith: '5.1.1' },
    ],
    [
      'foreign domain → 5.7.1',
      'support@elsewhere.example',
      plain,
      { accepted: false, code: 550, startsWith: '5.7.1' },
    ],
    [
      'subdomain is foreign',
      'support@mail.example.com',
      plain,
      { accepted: false, code: 550, startsWith: '5.7.1' },
    ],
    [
      'foreign postmaster → 5.7.1',
      'postmaster@elsewhere.example',
      plain,
      { accepted: false, code: 550, startsWith: '5.7.1' },
    ],
    ['postmaster without a route', 'postmaster@example.com', plain, { accepted: true }],
    ['postmaster odd case', '<PostMaster@EXAMPLE.org>', plain, { accepted: true }],
    ['bare <Postmaster> (RFC 5321)', '<Postmaster>', plain, { accepted: true }],
    ['no @ → 5.1.3', 'support', plain, { accepted: false, code: 553, startsWith: '5.1.3' }],
    [
      'reject action refuses with its code and text',
      'noreply@example.com',
      plain,
      { accepted: false, code: 550, startsWith: '5.7.1 This address' },
    ],
    ['temporary reject', 'busy@example.com', plain, { accepted: false, code: 450, startsWith: '4.2.1' }],
    ['continue route', 'sales@example.com', plain, { accepted: true }],
    ['content-conditional reject does not refuse at RCPT', 'info@example.com', plain, { accepted: true }],
    ['sender condition holds', 'partner@example.com', { mailFrom: 'x@partner.example' }, { accepted: true }],
    [
      'sender condition fails → 5.1.1',
      'partner@example.com',
      { mailFrom: 'x@evil.example' },
      { accepted: false, code: 550, startsWith: '5.1.1' },
    ],
    ['content condition may match', 'desk@example.com', plain, { accepted: true }],
    ['drop route accepts', 'bounces@example.com', { mailFrom: '' }, { accepted: true }],
  ])('%s: %s', (_label, rcpt, input, expected) => {
    const verdict = router.checkRecipient(rcpt, input);
    expect(verdict.accepted).toBe(expected.accepted);
    if (!verdict.accepted) {
      expect(verdict.code).toBe(expected.code);
      expect(verdict.message.startsWith(expected.startsWith!)).toBe(true);
    }
  });

  it('names the refused address and domain', () => {
    expect(router.checkRecipient('<Nobody@Example.com>', plain)).toEqual({
      accepted: false,
      code: 550,
      message: '5.1.1 <Nobody@example.com>: no such user here',
    });
    expect(router.checkRecipient('a@Elsewhere.Example', plain)).toEqual({
      accepted: false,
      code: 550,
      message: '5.7.1 Relaying denied: elsewhere.example is not a domain we receive for',
    });
  });
});

describe('decide (processing time)', () => {
  it.each<[string, string, RoutingInput, Partial<RecipientDecision> & { routes: string[] }]>([
    ['exact route', 'support@example.com', plain, { routes: ['support'] }],
    ['first match wins', 'support+x@example.com', plain, { routes: ['support'] }],
    [
      'continue takes the next route too, then stops',
      'sales@example.com',
      plain,
      { routes: ['archive', 'route-5'] },
    ],
    [
      'content reject applies',
      'info@example.com',
      withMessage('Buy VIAGRA now'),
      { routes: ['spam'], rejected: { code: 550, message: '5.7.1 Spam' } },
    ],
    ['content reject does not apply', 'info@example.com', withMessage('Hello'), { routes: ['info'] }],
    [
      'reject action',
      'noreply@example.com',
      plain,
      { routes: ['blocked'], rejected: { code: 550, message: '5.7.1 This address does not take mail' } },
    ],
    [
      'content condition fails → 5.1.1',
      'desk@example.com',
      withMessage('hello'),
      { routes: [], rejected: { code: 550, message: '5.1.1 <desk@example.com>: no such user here' } },
    ],
    ['content condition holds', 'desk@example.com', withMessage('VIP: call me'), { routes: ['vip'] }],
    [
      'unknown user',
      'nobody@example.com',
      plain,
      { routes: [], rejected: { code: 550, message: '5.1.1 <nobody@example.com>: no such user here' } },
    ],
    [
      'foreign domain',
      'x@elsewhere.example',
      plain,
      {
        routes: [],
        rejected: {
          code: 550,
          message: '5.7.1 Relaying denied: elsewhere.example is not a domain we receive for',
        },
      },
    ],
    ['postmaster synthetic', 'postmaster@example.com', plain, { routes: ['postmaster'] }],
    ['drop', 'bounces@example.com', { mailFrom: '' }, { routes: ['drop-bounces'] }],
  ])('%s: %s', (_label, rcpt, input, expected) => {
    const decision = router.decide(rcpt, input);
    expect(decision.matches.map((m) => m.route)).toEqual(expected.routes);
    expect(decision.rejected).toEqual(expected.rejected);
  });

  it('returns params, route index and actions', () => {
    expect(router.decide('<Reply+AbC@EXAMPLE.com>', plain)).toEqual({
      recipient: 'Reply+AbC@example.com',
      matches: [{ route: 'replies', routeIndex: 1, params: { token: 'AbC' }, actions: [mailbox('replies')] }],
    });
  });

  it('gives postmaster a synthetic mailbox match when no route takes it', () => {
    expect(router.decide('PostMaster@example.org', plain)).toEqual({
      recipient: 'PostMaster@example.org',
      matches: [
        {
          route: 'postmaster',
          routeIndex: -1,
          params: {},
          actions: [{ kind: 'mailbox', mailbox: 'postmaster' }],
        },
      ],
    });
  });
});

describe('postmaster', () => {
  it.each<[string, Route[], string]>([
    [
      'a postmaster route is used',
      [{ name: 'pm', match: 'postmaster@example.com', action: mailbox('pm') }],
      'pm',
    ],
    ['a catch-all route is used', [{ name: 'all', match: '@example.com', action: mailbox('all') }], 'all'],
    [
      'a catch-all reject cannot refuse postmaster',
      [{ name: 'no', match: '*@example.com', action: reject() }],
      'postmaster',
    ],
  ])('%s', (_label, rs, route) => {
    const r = createRouter({ domains: ['example.com'], routes: rs });
    expect(r.checkRecipient('postmaster@example.com', plain)).toEqual({ accepted: true });
    const d = r.decide('postmaster@example.com', plain);
    expect(d.rejected).toBeUndefined();
    expect(d.matches.map((m) => m.route)).toEqual([route]);
  });
});

describe('first match wins vs continue', () => {
  const a: Route = { name: 'a', match: '*@example.com', action: mailbox('a') };
  const aCont: Route = { ...a, continue: true };
  const b: Route = { name: 'b', match: 'x@example.com', action: mailbox('b') };
  const bCont: Route = { ...b, continue: true };
  const c: Route = { name: 'c', match: '@example.com', action: mailbox('c') };
  const rej: Route = { name: 'rej', match: 'x@example.com', action: reject(550, '5.7.1 no') };

  it.each<[string, Route[], string[], boolean]>([
    ['first wins', [a, b, c], ['a'], false],
    ['continue → next match', [aCont, b, c], ['a', 'b'], false],
    ['continue chain', [aCont, bCont, c], ['a', 'b', 'c'], false],
    ['non-matching routes are skipped', [b, a], ['b'], false],
    ['continue then reject', [aCont, rej, c], ['a', 'rej'], true],
    ['reject stops even after continue', [rej, aCont], ['rej'], true],
    ['continue with nothing after is still a match', [aCont], ['a'], false],
  ])('%s', (_label, rs, expected, rejected) => {
    const r = createRouter({ domains: ['example.com'], routes: rs });
    const d = r.decide('x@example.com', plain);
    expect(d.matches.map((m) => m.route)).toEqual(expected);
    expect(d.rejected !== undefined).toBe(rejected);
    expect(r.checkRecipient('x@example.com', plain).accepted).toBe(!rejected);
  });

  it.each<[string, Route[], { accepted: boolean; message?: string }]>([
    ['maybe-reject then accept → accepted', [{ ...rej, when: { subject: 'x' } }, a], { accepted: true }],
    ['maybe-accept then reject → accepted', [{ ...b, when: { subject: 'x' } }, rej], { accepted: true }],
    [
      'maybe-reject, nothing else → refused with its text',
      [{ ...rej, when: { subject: 'x' } }],
      { accepted: false, message: '5.7.1 no' },
    ],
    [
      'maybe-continue then reject → refused',
      [{ ...bCont, when: { subject: 'x' } }, rej],
      { accepted: false, message: '5.7.1 no' },
    ],
    ['maybe-continue, nothing else → accepted', [{ ...bCont, when: { subject: 'x' } }], { accepted: true }],
    [
      'sender miss on reject → 5.1.1',
      [{ ...rej, when: { sender: 'z@z.example' } }],
      { accepted: false, message: '5.1.1 <x@example.com>: no such user here' },
    ],
  ])('RCPT: %s', (_label, rs, expected) => {
    const v = createRouter({ domains: ['example.com'], routes: rs }).checkRecipient('x@example.com', plain);
    expect(v.accepted).toBe(expected.accepted);
    if (!v.accepted) expect(v.message).toBe(expected.message);
  });
});

describe('route names', () => {
  it('default to route-<index>', () => {
    const r = createRouter({
      domains: ['example.com'],
      routes: [
        { match: 'a@example.com', action: mailbox('a') },
        { match: 'b@example.com', action: mailbox('b') },
      ],
    });
    expect(r.decide('b@example.com', plain).matches[0]).toMatchObject({ route: 'route-1', routeIndex: 1 });
  });
});

describe('createRouter validation', () => {
  it.each<[string, Route[], string[]]>([
    [
      'pattern without @',
      [{ match: 'support', action: mailbox('s') }],
      ['routes[0] (route-0): match: "support" has no \'@\''],
    ],
    [
      'empty pattern',
      [{ match: '', action: mailbox('s') }],
      ['routes[0] (route-0): match: a recipient pattern must not be empty'],
    ],
    [
      'no domain',
      [{ name: 'x', match: 'a@', action: mailbox('s') }],
      ['routes[0] (x): match: "a@" has no domain after \'@\''],
    ],
    [
      'unclosed capture',
      [{ match: 'reply+{token@example.com', action: mailbox('s') }],
      ["without a closing '}'"],
    ],
    ['stray brace', [{ match: 'a}b@example.com', action: mailbox('s') }], ["'}' without an opening '{'"]],
    ['bad capture name', [{ match: '{1x}@example.com', action: mailbox('s') }], ['capture name {1x}']],
    [
      'duplicate capture',
      [{ match: '{a}-{a}@example.com', action: mailbox('s') }],
      ['capture {a} appears twice'],
    ],
    ['capture in domain', [{ match: 'a@{d}.com', action: mailbox('s') }], ['only allowed in the local part']],
    ['empty match list', [{ match: [], action: mailbox('s') }], ['at least one recipient pattern']],
    ['empty action list', [{ match: 'a@example.com', action: [] }], ['at least one action']],
    [
      'bad condition',
      [{ match: 'a@example.com', when: { subject: 42 as unknown as string }, action: mailbox('s') }],
      ['when.subject: 42 is not a string or RegExp'],
    ],
    [
      'duplicate names',
      [
        { name: 'x', match: 'a@example.com', action: mailbox('a') },
        { name: 'x', match: 'b@example.com', action: mailbox('b') },
      ],
      ['routes[1] (x): name already used by routes[0]'],
    ],
  ])('%s', (_label, rs, expected) => {
    let error: unknown;
    try {
      createRouter({ domains: ['example.com'], routes: rs });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RouteConfigError);
    const problems = (error as RouteConfigError).problems;
    for (const fragment of expected) expect(problems.some((p) => p.includes(fragment))).toBe(true);
  });

  it('reports every bad route at once, by index', () => {
    const rs: Route[] = [
      { match: 'support', action: mailbox('a') },
      { match: 'ok@example.com', action: mailbox('b') },
      { name: 'third', match: ['fine@example.com', 'billing'], action: mailbox('c') },
    ];
    expect(() => createRouter({ domains: ['example.com'], routes: rs })).toThrow(RouteConfigError);
    try {
      createRouter({ domains: ['example.com'], routes: rs });
    } catch (e) {
      const err = e as RouteConfigError;
      expect(err.name).toBe('RouteConfigError');
      expect(err.problems).toHaveLength(2);
      expect(err.problems[0]).toMatch(/^routes\[0\] \(route-0\)/);
      expect(err.problems[1]).toMatch(/^routes\[2\] \(third\): match: "billing" has no '@'/);
      expect(err.message).toContain('routes[2]');
    }
  });

  it.each([['a@b'], [''], ['*.example.com']])('rejects domain %j', (domain) => {
    expect(() => createRouter({ domains: [domain], routes: [] })).toThrow(RouteConfigError);
  });
});

describe('RoutingError', () => {
  it.each<[number, string, string]>([
    [550, '5.1.1 <a@example.com>: no such user here', '5.1.1'],
    [450, '4.2.1 busy', '4.2.1'],
    [550, 'no enhanced code', '5.0.0'],
  ])('%i %s → %s', (code, message, enhanced) => {
    const err = new RoutingError(code, message);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('RoutingError');
    expect(err.code).toBe(code);
    expect(err.responseCode).toBe(code);
    expect(err.enhanced).toBe(enhanced);
    expect(err.message).toBe(message);
  });

  it('wraps a refused verdict', () => {
    const v = router.checkRecipient('nobody@example.com', plain);
    if (v.accepted) throw new Error('expected a refusal');
    expect(RoutingError.from(v)).toMatchObject({ code: 550, enhanced: '5.1.1' });
  });
});
