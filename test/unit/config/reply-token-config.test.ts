import { describe, expect, it } from 'vitest';
import { handler, mailbox } from '../../../lib/actions/builders.ts';
import { ConfigError, resolveConfig } from '../../../lib/config/index.ts';

const replyAddress = { keys: { a: 'a-signing-key-of-16-plus' }, currentKeyId: 'a' };

const problemsOf = (options: unknown): string[] => {
  try {
    resolveConfig(options);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
};

describe('config: route replyToken', () => {
  it('accepts a replyToken route with keys and a fallback', () => {
    const config = resolveConfig({
      domains: ['example.com'],
      replyAddress,
      routes: [
        {
          name: 'replies',
          match: 'reply+{token}@example.com',
          replyToken: { param: 'token', fallback: 'refused' },
          action: handler(() => {}),
        },
        { name: 'refused', match: 'refused@example.com', action: mailbox('refused') },
      ],
    });
    expect(config.routes[0]?.replyToken).toEqual({ param: 'token', fallback: 'refused' });
  });

  it('reports a bad param, an unknown fallback and missing keys at once, naming the fields', () => {
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
    expect(problems).toHaveLength(4);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^routes\[0\] \(a\): replyToken\.param: "tok" is not a capture/),
        expect.stringMatching(/^routes\[0\] \(a\): replyToken: needs signing keys; set replyAddress/),
        expect.stringMatching(/^routes\[1\] \(b\): replyToken: needs signing keys; set replyAddress/),
        expect.stringMatching(/^routes\[1\] \(b\): replyToken\.fallback: no route is named "nowhere"/),
      ]),
    );
  });

  it('reports shape errors by path', () => {
    const problems = problemsOf({
      domains: ['example.com'],
      replyAddress,
      routes: [
        {
          match: 'reply+{token}@example.com',
          replyToken: { param: '', fallback: '', verify: true },
          action: mailbox('a'),
        },
        { match: 'x+{token}@example.com', replyToken: { param: 3 }, action: mailbox('x') },
      ],
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'routes[0].replyToken.param: name the capture that holds the token',
        'routes[0].replyToken.fallback: must be the name of another route',
        expect.stringMatching(/^routes\[0\]\.replyToken: .*verify/),
        expect.stringMatching(/^routes\[1\]\.replyToken\.param: /),
      ]),
    );
  });
});

describe('config: replyAddress lifetime', () => {
  it('takes expiresInSeconds and allowNoExpiry, and leaves them unset by default', () => {
    expect(resolveConfig({ domains: ['example.com'], routes: [], replyAddress }).replyAddress).toEqual(
      replyAddress,
    );
    const config = resolveConfig({
      domains: ['example.com'],
      routes: [],
      replyAddress: { ...replyAddress, expiresInSeconds: 7 * 86_400, allowNoExpiry: true },
    });
    expect(config.replyAddress).toMatchObject({ expiresInSeconds: 604_800, allowNoExpiry: true });
  });

  it('names bad lifetime settings', () => {
    const bad = (extra: Record<string, unknown>) =>
      problemsOf({ domains: ['example.com'], routes: [], replyAddress: { ...replyAddress, ...extra } });
    expect(bad({ expiresInSeconds: 0 })).toEqual([
      'replyAddress.expiresInSeconds: must be a whole number of seconds > 0',
    ]);
    expect(bad({ expiresInSeconds: 1.5 })).toEqual([
      'replyAddress.expiresInSeconds: must be a whole number of seconds',
    ]);
    expect(bad({ expiresInSeconds: 20 * 365 * 86_400 })).toEqual([
      'replyAddress.expiresInSeconds: must be at most 315360000 (10 years)',
    ]);
    expect(bad({ allowNoExpiry: 'yes' })).toEqual([expect.stringMatching(/^replyAddress\.allowNoExpiry: /)]);
  });
});
