import { describe, expect, it } from 'vitest';
import { mailbox } from '../../../lib/actions/index.ts';
import { resolveConfig } from '../../../lib/config/index.ts';
import { routerFromConfig } from '../../../lib/routing/index.ts';

describe('routerFromConfig', () => {
  const config = resolveConfig({
    domains: ['example.com'],
    routes: [{ name: 'support', match: 'support@example.com', action: mailbox('support') }],
  });

  it('builds the router of a config once: validation, pipeline and ingress share it', () => {
    const router = routerFromConfig(config);
    expect(routerFromConfig(config)).toBe(router);
    expect(router.checkRecipient('support@example.com', { mailFrom: '' })).toEqual({ accepted: true });
  });

  it('builds a router of its own when given options (another clock or separator)', () => {
    const router = routerFromConfig(config, { now: () => new Date(0) });
    expect(router).not.toBe(routerFromConfig(config));
    expect(router.decide('support@example.com', { mailFrom: '' }).matches[0]?.route).toBe('support');
  });
});
