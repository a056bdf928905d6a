import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkHeaderLimits } from '../../lib/auth/index.ts';
import { corporaDir } from '../support/corpora.ts';

const dir = corporaDir();

function walk(root: string, out: string[] = []): string[] {
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/**
 * The default header limits against the shared corpora (mail from many parsers' and authenticators' test
 * suites, spam and ham): every message is within them except two that test suites made oversized on
 * purpose. JSON files are expectations, not messages.
 */
describe.skipIf(!dir)('corpora: the default header limits', () => {
  it('only the deliberately oversized messages go over a limit', () => {
    const root = dir!;
    const over = walk(root)
      .filter((file) => !file.endsWith('.json'))
      .map((file) => ({ file: relative(root, file), problem: checkHeaderLimits(readFileSync(file)) }))
      .filter((r) => r.problem)
      .map((r) => `${r.file}: ${r.problem!.limit}`)
      .sort();
    expect(over).toEqual([
      'mailgun-flanker/tests/fixtures/messages/long-header.eml: maxHeaderBytes',
      'mimekit/UnitTests/TestData/messages/stack-overflow.txt: maxHeaderBytes',
    ]);
  });
});
