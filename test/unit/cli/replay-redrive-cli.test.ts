import { describe, expect, it } from 'vitest';
import { sinceOption } from '../../../lib/cli/commands/replay-aws.ts';
import { mailroom } from '../../support/mailroom-in-process.ts';

describe('mailroom replay on AWS: usage errors (before any AWS call)', () => {
  it.each([
    [['replay', '--stack', 'Mailroom'], 'give one message id or --failed'],
    [['replay', '--since', '24h', '--failed'], '--since needs --stack (or --table and --bucket)'],
    [['replay', '--region', 'eu-west-1', 'id1'], '--region needs --stack (or --table and --bucket)'],
    [['replay', '--table', 'T', 'id1'], 'give --stack NAME, or both --table and --bucket'],
    [
      ['replay', '--stack', 'Mailroom', '--data', 'd', 'id1'],
      '--data is for a local replay, not with --stack',
    ],
    [['replay', '--stack', 'Mailroom', '--since', '24h', 'id1'], '--since goes with --failed'],
    [
      ['replay', '--stack', 'Mailroom', '--failed', '--since', 'yesterday'],
      "--since must be an ISO date or a duration like 24h, 30m or 7d, got 'yesterday'",
    ],
  ])('%j', async (argv, message) => {
    const r = await mailroom(argv);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(/^mailroom replay: .*\nusage: /),
    });
    expect(r.stderr.split('\n')[0]).toBe(`mailroom replay: ${message}`);
  });
});

describe('mailroom redrive: usage errors', () => {
  it.each([
    [['redrive'], 'give --stack NAME, or both --dlq-url and --queue-url'],
    [['redrive', '--dlq-url', 'https://sqs/dlq'], 'give --stack NAME, or both --dlq-url and --queue-url'],
    [['redrive', '--stack', 'Mailroom', '--max', '0'], "--max must be a whole number above 0, got '0'"],
    [['redrive', '--stack', 'Mailroom', '--max', 'all'], "--max must be a whole number above 0, got 'all'"],
    [['redrive', '--stack', 'Mailroom', 'extra'], "unexpected argument 'extra'"],
    [['redrive', '--stak', 'Mailroom'], 'unknown option --stak (did you mean --stack?)'],
  ])('%j', async (argv, message) => {
    const r = await mailroom(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `mailroom redrive: ${message}\nusage: mailroom redrive --stack NAME | --dlq-url U --queue-url U [--max N] [--region R]\n`,
    );
  });
});

describe('--since', () => {
  const now = new Date('2026-12-06T12:00:00.000Z');
  it.each([
    ['24h', '2026-12-05T12:00:00.000Z'],
    ['30m', '2026-12-06T11:30:00.000Z'],
    ['7d', '2026-11-29T12:00:00.000Z'],
    ['90s', '2026-12-06T11:58:30.000Z'],
    ['2026-12-01', '2026-12-01T00:00:00.000Z'],
    ['2026-12-01T08:00:00+01:00', '2026-12-01T07:00:00.000Z'],
  ])('%s → %s', (value, iso) => {
    expect(sinceOption(value, now)).toBe(iso);
  });
});
