import { describe, expect, it } from 'vitest';
import { uncheckedVerdicts } from '../../../lib/auth/verdicts.ts';
import { metaJson, parseMetaJson } from '../../../lib/aws/s3-raw-meta.ts';

describe('S3 metadata with the scan verdicts of mailroom smtp', () => {
  it('keeps spam / virus details and scanOnly through the stored JSON', () => {
    const auth = {
      ...uncheckedVerdicts('authenticated during processing'),
      spam: {
        verdict: 'fail' as const,
        scanner: 'rspamd' as const,
        action: 'add header',
        score: 7.5,
        requiredScore: 15,
        symbols: ['BAYES_SPAM', 'R_SPF_FAIL'],
      },
      virus: { verdict: 'pass' as const, scanner: 'clamav' as const },
      scanOnly: true as const,
    };
    const meta = {
      envelope: { mailFrom: 'a@sender.test', rcptTo: ['support@example.com'], remoteAddress: '192.0.2.1' },
      auth,
      receivedAt: '2026-12-06T10:00:00.000Z',
    };
    expect(parseMetaJson(metaJson(meta), 'test').auth).toEqual(auth);
  });
});
