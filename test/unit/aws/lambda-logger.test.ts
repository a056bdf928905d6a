import { describe, expect, it } from 'vitest';
import { lambdaLogLevel } from '../../../lib/aws/observability/lambda-logger.ts';

describe('lambdaLogLevel', () => {
  it('takes POWERTOOLS_LOG_LEVEL first, then MAILROOM_LOG_LEVEL, in any case, else INFO', () => {
    expect(lambdaLogLevel({ POWERTOOLS_LOG_LEVEL: 'warn', MAILROOM_LOG_LEVEL: 'debug' })).toBe('WARN');
    expect(lambdaLogLevel({ MAILROOM_LOG_LEVEL: 'debug' })).toBe('DEBUG');
    expect(lambdaLogLevel({ MAILROOM_LOG_LEVEL: 'silent' })).toBe('SILENT');
    expect(lambdaLogLevel({ MAILROOM_LOG_LEVEL: 'loud' })).toBe('INFO');
    expect(lambdaLogLevel({})).toBe('INFO');
  });
});
