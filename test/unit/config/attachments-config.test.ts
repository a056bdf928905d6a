import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  contentTypeKept,
  DEFAULT_ATTACHMENTS,
  resolveConfig,
} from '../../../lib/config/index.ts';

const base = { domains: ['example.com'], routes: [] };

function problemsOf(attachments: unknown): string[] {
  try {
    resolveConfig({ ...base, attachments });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('attachments options', () => {
  it('default to keeping every attachment up to 50 MiB, URLs for an hour', () => {
    expect(resolveConfig(base).attachments).toEqual({
      store: true,
      contentTypes: null,
      maxSize: 52_428_800,
      urlExpiresIn: 3600,
    });
    expect(DEFAULT_ATTACHMENTS.maxSize).toBe(50 * 1024 * 1024);
  });

  it('take what the config gives, content types lower-cased', () => {
    const config = resolveConfig({
      ...base,
      attachments: {
        store: false,
        contentTypes: ['Image/*', 'application/pdf'],
        maxSize: 1000,
        urlExpiresIn: 60,
      },
    });
    expect(config.attachments).toEqual({
      store: false,
      contentTypes: ['image/*', 'application/pdf'],
      maxSize: 1000,
      urlExpiresIn: 60,
    });
  });

  it('name the bad field', () => {
    expect(problemsOf({ store: 'yes' }).join()).toMatch(/attachments\.store: must be true or false/);
    expect(problemsOf({ contentTypes: ['pdf'] }).join()).toMatch(
      /attachments\.contentTypes\[0\]: must be a content type such as "application\/pdf"/,
    );
    expect(problemsOf({ contentTypes: 'image/*' }).join()).toMatch(
      /attachments\.contentTypes: must be a list/,
    );
    expect(problemsOf({ maxSize: 0 }).join()).toMatch(/attachments\.maxSize: must be more than 0 bytes/);
    expect(problemsOf({ maxSize: 1.5 }).join()).toMatch(/attachments\.maxSize: must be a whole number/);
    expect(problemsOf({ urlExpiresIn: 8 * 24 * 3600 }).join()).toMatch(
      /attachments\.urlExpiresIn: must be at most 604800 seconds \(7 days\)/,
    );
    expect(problemsOf({ urlExpiresIn: 0 }).join()).toMatch(
      /attachments\.urlExpiresIn: must be at least 1 second/,
    );
    expect(problemsOf({ keep: true }).join()).toMatch(/attachments/);
  });
});

describe('contentTypeKept', () => {
  it('matches exact types and type/* patterns, ignoring parameters and case', () => {
    const patterns = ['image/*', 'application/pdf'];
    expect(contentTypeKept(patterns, 'image/png')).toBe(true);
    expect(contentTypeKept(patterns, 'Application/PDF; name="x.pdf"')).toBe(true);
    expect(contentTypeKept(patterns, 'application/zip')).toBe(false);
    expect(contentTypeKept(patterns, 'imagex/png')).toBe(false);
    expect(contentTypeKept(null, 'anything/at-all')).toBe(true);
  });
});
