import { describe, expect, it } from 'vitest';
import { describeAction } from '../../../../lib/actions/index.ts';
import { ConfigError, resolveConfig } from '../../../../lib/config/index.ts';
import { log } from '../../../../lib/index.ts';
import type { Logger } from '../../../../lib/kernel/index.ts';
import { createTestMailroom } from '../../../../lib/testing/index.ts';

type Line = { level: keyof Logger; msg: string; data: Record<string, unknown> | undefined };

function recordingLogger(lines: Line[]): Logger {
  const at =
    (level: keyof Logger) =>
    (msg: string, data?: Record<string, unknown>): void => {
      lines.push({ level, msg, data });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('log() actions', () => {
  it('write one line with the message id, route and subject at the chosen level', async () => {
    const lines: Line[] = [];
    const mr = await createTestMailroom(
      {
        domains: ['example.com'],
        routes: [
          { name: 'trace', match: 'dev@example.com', action: log('debug') },
          { name: 'plain', match: 'ops@example.com', action: { kind: 'log' } },
        ],
      },
      recordingLogger(lines),
    );
    try {
      const d = await mr.deliver('From: a@b.test\nSubject: Order 42\n\nHello\n', { to: 'dev@example.com' });
      expect(d.deliveries.map((x) => [x.route, x.action, x.status])).toEqual([['trace', 'log', 'delivered']]);
      const logged = lines.filter((l) => l.msg.startsWith('message '));
      expect(logged).toEqual([
        {
          level: 'debug',
          msg: `message ${d.id} routed by trace: Order 42`,
          data: expect.objectContaining({ id: d.id, route: 'trace', subject: 'Order 42' }),
        },
      ]);

      const plain = await mr.deliver('From: a@b.test\n\nno subject\n', { to: 'ops@example.com' });
      expect(
        lines.filter((l) => l.msg === `message ${plain.id} routed by plain: (no subject)`),
      ).toMatchObject([{ level: 'info', data: { subject: null } }]);
    } finally {
      await mr.close();
    }
  });

  it('are validated by the config, and shown by mailroom route with their level', () => {
    const problems = (() => {
      try {
        resolveConfig({
          domains: ['example.com'],
          routes: [{ match: 'a@example.com', action: { kind: 'log', level: 'loud' } }],
        });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as ConfigError).problems;
      }
      return [];
    })();
    expect(problems).toEqual(["routes[0].action.level: must be one of debug, info, warn, error, got 'loud'"]);
    expect(describeAction(log())).toEqual({ kind: 'log', level: 'info' });
    expect(describeAction(log('warn'))).toEqual({ kind: 'log', level: 'warn' });
  });
});
