import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { handler, mailbox, reject } from '../../../lib/actions/builders.ts';
import { base32Encode } from '../../../lib/routing/base32.ts';
import {
  createReplyToken,
  createRouter,
  type ReplyPayload,
  type ReplyTokenFailure,
  type Route,
  RouteConfigError,
  type RoutingInput,
  routerFromConfig,
} from '../../../lib/routing/index.ts';
import { encodeReplyPayload } from '../../../lib/routing/reply-payload.ts';

const oldKey = 'old-signing-key-0123456789';
const newKey = 'new-signing-key-abcdefghij';
const keys = { a: oldKey, b: newKey };
const now = new Date('2030-01-01T00:00:00Z');
const hourAgo = new Date(now.getTime() - 3_600_000);
const input: RoutingInput = { mailFrom: 'ada@sender.test' };
const withMessage: RoutingInput = {
  mailFrom: 'ada@sender.test',
  message: { from: { address: 'ada@sender.test' }, subject: 'Re: Ticket 42', headers: [] },
};

const sign = (
  payload: ReplyPayload,
  options: { keyId?: string; keys?: Record<string, string>; at?: Date; ttl?: number } = {},
) =>
  createReplyToken(payload, {
    keys: options.keys ?? keys,
    currentKeyId: options.keyId ?? 'b',
    now: options.at ?? now,
    expiresInSeconds: options.ttl ?? 3600,
  });

const valid = sign({ ticket: 42 });
/** One character of the MAC changed. */
const tampered = valid.slice(0, -1) + (valid.endsWith('a') ? 'b' : 'a');
/** One character of the body changed: the payload no longer matches its signature. */
const tamperedBody = valid.slice(0, 3) + (valid[3] === 'a' ? 'b' : 'a') + valid.slice(4);
const expired = sign({ ticket: 42 }, { at: new Date(now.getTime() - 7_200_000) });
const unknownKey = sign({ ticket: 42 }, { keyId: 'z', keys: { z: 'some-other-key-0123456789' } });
const rotated = sign({ ticket: 7 }, { keyId: 'a' });
/** Minted without a lifetime: the 30-day default applies. */
const defaultLifetime = createReplyToken({ t: 'ticket', id: 9 }, { keys, currentKeyId: 'b', now });
const days = (n: number) => new Date(now.getTime() + n * 86_400_000);

/** A token as versions before the 30-day default minted without a lifetime (expiry 0). */
function legacyToken(payload: ReplyPayload, keyId: string, key: string): string {
  const body = Buffer.concat([Buffer.alloc(4), encodeReplyPayload(payload)]);
  const mac = createHmac('sha256', key)
    .update('mailroom-reply-v1\0', 'latin1')
    .update(keyId, 'latin1')
    .update(body)
    .digest()
    .subarray(0, 10);
  return keyId + base32Encode(body) + base32Encode(mac);
}

const seen: string[] = [];
const routes: Route[] = [
  {
    name: 'replies',
    match: 'reply+{token}@example.com',
    replyToken: { param: 'token' },
    action: handler(() => {
      seen.push('replies');
    }, 'store-reply'),
  },
  {
    name: 'answers',
    match: 'answer+{token}@example.com',
    replyToken: { param: 'token', fallback: 'refused' },
    action: mailbox('answers'),
  },
  { name: 'refused', match: 'refused@example.com', action: mailbox('replies-refused') },
  {
    name: 'strict',
    match: 'strict+{t}@example.com',
    replyToken: { param: 't', fallback: 'deny' },
    action: mailbox('strict'),
  },
  { name: 'deny', match: 'deny@example.com', action: reject(550, '5.7.1 Not a reply address of ours') },
  { name: 'tagged', match: 'r@example.com', replyToken: { param: 'tag' }, action: mailbox('tagged') },
  {
    name: 'regex',
    match: /^re-(?<tok>[a-z0-9]+)@example\.org$/i,
    replyToken: { param: 'tok' },
    action: mailbox('regex'),
  },
  // Only reached when the reply route's conditions say no: a token is never checked for a route not taken.
  {
    name: 'partners',
    match: 'p+{token}@example.com',
    when: { sender: '*@partner.test' },
    replyToken: { param: 'token' },
    action: mailbox('partners'),
  },
  { name: 'p-others', match: 'p+*@example.com', action: mailbox('p-others') },
];
const router = createRouter({
  domains: ['example.com', 'example.org'],
  routes,
  replyKeys: keys,
  now: () => now,
});

describe('replyToken route: verified tokens', () => {
  it.each<
    [label: string, recipient: string, route: string, param: string, payload: ReplyPayload, keyId: string]
  >([
    ['valid token', `reply+${valid}@example.com`, 'replies', 'token', { ticket: 42 }, 'b'],
    [
      'rotated key, old key still listed',
      `reply+${rotated}@example.com`,
      'replies',
      'token',
      { ticket: 7 },
      'a',
    ],
    [
      'uppercased by a relay',
      `REPLY+${valid.toUpperCase()}@EXAMPLE.COM`,
      'replies',
      'token',
      { ticket: 42 },
      'b',
    ],
    [
      'mixed case',
      `Reply+${valid.slice(0, 9).toUpperCase()}${valid.slice(9)}@example.com`,
      'replies',
      'token',
      { ticket: 42 },
      'b',
    ],
    [
      'lowercased by a relay',
      `reply+${valid.toLowerCase()}@example.com`,
      'replies',
      'token',
      { ticket: 42 },
      'b',
    ],
    [
      'default lifetime',
      `reply+${defaultLifetime}@example.com`,
      'replies',
      'token',
      { t: 'ticket', id: 9 },
      'b',
    ],
    [
      'valid token with a fallback route',
      `answer+${valid}@example.com`,
      'answers',
      'token',
      { ticket: 42 },
      'b',
    ],
    ['subaddress tag as the token', `r+${valid}@example.com`, 'tagged', 'tag', { ticket: 42 }, 'b'],
    ['regex named group', `re-${valid}@example.org`, 'regex', 'tok', { ticket: 42 }, 'b'],
  ])(
    '%s: accepted at RCPT, decide exposes the payload',
    (_label, recipient, route, param, payload, keyId) => {
      expect(router.checkRecipient(recipient, input)).toEqual({ accepted: true });
      const decision = router.decide(recipient, withMessage);
      expect(decision.rejected).toBeUndefined();
      expect(decision.matches).toHaveLength(1);
      const [match] = decision.matches;
      expect(match?.route).toBe(route);
      expect(match?.replyToken).toEqual({
        param,
        payload,
        keyId,
        expiresAt: payload.t ? days(30) : new Date(now.getTime() + 3_600_000),
      });
      expect(match?.params[param]?.toLowerCase()).toBe(
        recipient.split(/[+-]/)[1]?.split('@')[0]?.toLowerCase(),
      );
      for (const [k, v] of Object.entries(payload)) expect(match?.params[`${param}.${k}`]).toBe(String(v));
      expect(match?.params.replyTokenError).toBeUndefined();
    },
  );
});

describe('replyToken route: refused tokens (no fallback)', () => {
  it.each<[label: string, recipient: string, reason: ReplyTokenFailure]>([
    ['tampered signature', `reply+${tampered}@example.com`, 'bad-signature'],
    ['tampered payload', `reply+${tamperedBody}@example.com`, 'bad-signature'],
    ['expired', `reply+${expired}@example.com`, 'expired'],
    ['unknown key id', `reply+${unknownKey}@example.com`, 'unknown-key'],
    ['forged text', 'reply+aforgedtoken@example.com', 'malformed'],
    ['subaddress route without a tag', 'r@example.com', 'malformed'],
    ['tampered, regex route', `re-${tampered}@example.org`, 'bad-signature'],
  ])('%s: 550 5.7.1 at RCPT and at processing, no handler', (_label, recipient, reason) => {
    const verdict = router.checkRecipient(recipient, input);
    expect(verdict).toMatchObject({ accepted: false, code: 550 });
    expect(verdict.accepted === false && verdict.message).toMatch(/^5\.7\.1 <[^>]+>: reply address /);

    const decision = router.decide(recipient, withMessage);
    expect(decision.rejected?.code).toBe(550);
    expect(decision.rejected?.message.startsWith('5.7.1')).toBe(true);
    const last = decision.matches.at(-1);
    expect(last?.replyToken).toBeUndefined();
    expect(last?.params.replyTokenError).toBe(reason);
    expect(last?.actions).toEqual([{ kind: 'reject', code: 550, text: decision.rejected?.message }]);
    expect(seen).toEqual([]);
  });

  it('names the reason in the reply text', () => {
    const text = (r: string) => {
      const v = router.checkRecipient(r, input);
      return v.accepted ? '' : v.message;
    };
    expect(text(`reply+${expired}@example.com`)).toBe(
      `5.7.1 <reply+${expired}@example.com>: reply address has expired`,
    );
    expect(text(`reply+${unknownKey}@example.com`)).toContain('unknown key');
    expect(text(`reply+${tampered}@example.com`)).toContain('signature does not match');
  });
});

describe('replyToken route: fallback', () => {
  it.each<[label: string, recipient: string, reason: ReplyTokenFailure]>([
    ['forged', 'answer+aforgedtoken@example.com', 'malformed'],
    ['tampered', `answer+${tampered}@example.com`, 'bad-signature'],
    ['expired', `answer+${expired}@example.com`, 'expired'],
    ['unknown key id', `answer+${unknownKey}@example.com`, 'unknown-key'],
  ])('%s token goes to the fallback route with replyTokenError', (_label, recipient, reason) => {
    expect(router.checkRecipient(recipient, input)).toEqual({ accepted: true });
    const decision = router.decide(recipient, withMessage);
    expect(decision.rejected).toBeUndefined();
    expect(decision.matches).toEqual([
      {
        route: 'refused',
        routeIndex: 2,
        params: { token: recipient.slice('answer+'.length, recipient.indexOf('@')), replyTokenError: reason },
        actions: [mailbox('replies-refused')],
      },
    ]);
  });

  it('a fallback that rejects refuses with its own reply', () => {
    const recipient = `strict+${tampered}@example.com`;
    expect(router.checkRecipient(recipient, input)).toEqual({
      accepted: false,
      code: 550,
      message: '5.7.1 Not a reply address of ours',
    });
    const decision = router.decide(recipient, withMessage);
    expect(decision.rejected).toEqual({ code: 550, message: '5.7.1 Not a reply address of ours' });
    expect(decision.matches.at(-1)).toMatchObject({
      route: 'deny',
      params: { replyTokenError: 'bad-signature' },
    });
  });
});

describe('replyToken route: tokens expire by default', () => {
  const at = (when: Date) =>
    createRouter({ domains: ['example.com'], routes, replyKeys: keys, now: () => when });
  const recipient = `reply+${defaultLifetime}@example.com`;

  it('accepts a token minted without a lifetime for 30 days, then refuses it at RCPT', () => {
    expect(at(days(29)).checkRecipient(recipient, input)).toEqual({ accepted: true });
    expect(at(new Date(days(30).getTime() - 1000)).checkRecipient(recipient, input)).toEqual({
      accepted: true,
    });
    expect(at(days(31)).checkRecipient(recipient, input)).toEqual({
      accepted: false,
      code: 550,
      message: `5.7.1 <${recipient}>: reply address has expired`,
    });
  });

  it('refuses a token without an expiry (older versions) unless the config allows them', () => {
    const legacy = legacyToken({ ticket: 5 }, 'b', newKey);
    const address = `reply+${legacy}@example.com`;
    expect(router.checkRecipient(address, input)).toMatchObject({ accepted: false, code: 550 });
    expect(router.decide(address, withMessage).matches.at(-1)?.params.replyTokenError).toBe('expired');
    const allowing = routerFromConfig(
      { domains: ['example.com'], routes, replyAddress: { keys, allowNoExpiry: true } },
      { now: () => days(10_000) },
    );
    expect(allowing.checkRecipient(address, input)).toEqual({ accepted: true });
    expect(allowing.decide(address, withMessage).matches[0]?.replyToken).toMatchObject({
      payload: { ticket: 5 },
      expiresAt: null,
    });
  });
});

describe('replyToken route: when the token is checked', () => {
  it('checks expiry at processing against receivedAt, so a backlog does not refuse what RCPT accepted', () => {
    const late = () => new Date(now.getTime() + 2 * 3_600_000);
    const r = createRouter({ domains: ['example.com'], routes, replyKeys: keys, now: late });
    const recipient = `reply+${valid}@example.com`;
    expect(r.decide(recipient, withMessage).rejected?.message).toMatch(/^5\.7\.1 .*expired$/);
    const decision = r.decide(recipient, { ...withMessage, receivedAt: hourAgo });
    expect(decision.rejected).toBeUndefined();
    expect(decision.matches[0]?.replyToken?.payload).toEqual({ ticket: 42 });
  });

  it('does not look at the token of a route whose conditions rule it out', () => {
    const recipient = 'p+aforgedtoken@example.com';
    expect(router.checkRecipient(recipient, input)).toEqual({ accepted: true });
    expect(router.decide(recipient, withMessage).matches.map((m) => m.route)).toEqual(['p-others']);
    expect(router.checkRecipient(recipient, { mailFrom: 'x@partner.test' })).toMatchObject({
      accepted: false,
      code: 550,
    });
  });

  it('a key removed from the list stops verifying', () => {
    const r = createRouter({ domains: ['example.com'], routes, replyKeys: { b: newKey }, now: () => now });
    expect(r.checkRecipient(`reply+${rotated}@example.com`, input)).toMatchObject({
      accepted: false,
      code: 550,
    });
    expect(r.checkRecipient(`reply+${valid}@example.com`, input)).toEqual({ accepted: true });
  });

  it('routerFromConfig passes the config reply keys', () => {
    const r = routerFromConfig(
      { domains: ['example.com'], routes, replyAddress: { keys } },
      { now: () => now },
    );
    expect(r.checkRecipient(`reply+${valid}@example.com`, input)).toEqual({ accepted: true });
    expect(r.checkRecipient(`reply+${tampered}@example.com`, input)).toMatchObject({ accepted: false });
    expect(() => routerFromConfig({ domains: ['example.com'], routes, replyAddress: null })).toThrow(
      /needs signing keys/,
    );
  });
});

describe('replyToken route: config errors', () => {
  const problemsOf = (options: Parameters<typeof createRouter>[0]): string[] => {
    try {
      createRouter(options);
    } catch (err) {
      expect(err).toBeInstanceOf(RouteConfigError);
      return (err as RouteConfigError).problems;
    }
    throw new Error('expected a RouteConfigError');
  };

  it('reports a bad param, an unknown fallback and missing keys all at once, naming the fields', () => {
    const problems = problemsOf({
      domains: ['example.com'],
      routes: [
        { name: 'a', match: 'reply+{token}@example.com', replyToken: { param: 'tok' }, action: mailbox('a') },
        {
          name: 'b',
          match: 'answer+{token}@example.com',
          replyToken: { param: 'token', fallback: 'nowhere' },
          action: mailbox('b'),
        },
      ],
    });
    expect(problems).toEqual([
      'routes[0] (a): replyToken.param: "tok" is not a capture of "reply+{token}@example.com" (its captures are token)',
      'routes[0] (a): replyToken: needs signing keys; set replyAddress: { keys, currentKeyId } in the config (replyKeys for createRouter)',
      'routes[1] (b): replyToken: needs signing keys; set replyAddress: { keys, currentKeyId } in the config (replyKeys for createRouter)',
      'routes[1] (b): replyToken.fallback: no route is named "nowhere" (routes: a, b)',
    ]);
  });

  it.each<[label: string, route: Route, others: Route[], expected: string]>([
    [
      'param of a pattern that captures nothing',
      { name: 'x', match: '*@example.com', replyToken: { param: 'token' }, action: mailbox('x') },
      [],
      'routes[0] (x): replyToken.param: "token" is not a capture of "*@example.com" (it captures nothing)',
    ],
    [
      'param missing from one of several patterns',
      {
        name: 'x',
        match: ['reply+{token}@example.com', 'r-{id}@example.com'],
        replyToken: { param: 'token' },
        action: mailbox('x'),
      },
      [],
      'routes[0] (x): replyToken.param: "token" is not a capture of "r-{id}@example.com" (its captures are id)',
    ],
    [
      'empty param',
      { name: 'x', match: 'reply+{token}@example.com', replyToken: { param: '' }, action: mailbox('x') },
      [],
      "routes[0] (x): replyToken.param: name the capture that holds the token, e.g. 'token' for 'reply+{token}@…'",
    ],
    [
      'not an object',
      {
        name: 'x',
        match: 'reply+{token}@example.com',
        replyToken: 'token' as unknown as Route['replyToken'],
        action: mailbox('x'),
      },
      [],
      "routes[0] (x): replyToken: must be an object such as { param: 'token' }",
    ],
    [
      'fallback to itself',
      {
        name: 'x',
        match: 'reply+{token}@example.com',
        replyToken: { param: 'token', fallback: 'x' },
        action: mailbox('x'),
      },
      [],
      'routes[0] (x): replyToken.fallback: must name another route, not this one',
    ],
    [
      'fallback to a route that verifies tokens itself',
      {
        name: 'x',
        match: 'reply+{token}@example.com',
        replyToken: { param: 'token', fallback: 'y' },
        action: mailbox('x'),
      },
      [
        {
          name: 'y',
          match: 'other+{token}@example.com',
          replyToken: { param: 'token' },
          action: mailbox('y'),
        },
      ],
      'routes[0] (x): replyToken.fallback: route "y" has a replyToken itself; a fallback takes unverified tokens, so it must not expect a verified one',
    ],
  ])('%s', (_label, route, others, expected) => {
    expect(problemsOf({ domains: ['example.com'], routes: [route, ...others], replyKeys: keys })).toEqual([
      expected,
    ]);
  });

  it('a fallback may name a route by its default name', () => {
    expect(() =>
      createRouter({
        domains: ['example.com'],
        routes: [
          {
            match: 'reply+{token}@example.com',
            replyToken: { param: 'token', fallback: 'route-1' },
            action: mailbox('x'),
          },
          { match: 'refused@example.com', action: mailbox('refused') },
        ],
        replyKeys: keys,
      }),
    ).not.toThrow();
  });

  it('refuses empty reply keys', () => {
    expect(problemsOf({ domains: ['example.com'], routes: [], replyKeys: {} })).toEqual([
      'replyKeys: must map key ids to non-empty signing keys',
    ]);
  });
});
