import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corporaDir } from '../support/corpora.ts';
import { mailroomBin, projectRoot } from '../support/mailroom-process.ts';

const dir = corporaDir();

function allFiles(root: string): string[] {
  return readdirSync(root, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && !/^(README\.txt|LICENSE.*|COPYING.*|NOTICE)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Every corpus file (messages, and the odd non-message too) goes through the real `mailroom parse` command. */
describe.skipIf(!dir)('mailroom parse over every corpus file', () => {
  const files = dir ? allFiles(dir) : [];
  const batches: string[][] = [];
  for (let i = 0; i < files.length; i += 250) batches.push(files.slice(i, i + 250));

  it('has the corpus', () => {
    expect(files.length).toBeGreaterThan(1000);
  });

  it.each(batches.map((b, i) => [i, b] as const))(
    'batch %i: exit 0, one JSON line per file, in order',
    async (_i, batch) => {
      // A hang guard, not a speed test: 250 messages get two minutes.
      const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
        execFile(
          process.execPath,
          [mailroomBin, 'parse', ...batch],
          { cwd: projectRoot, maxBuffer: 1024 * 1024 * 1024, timeout: 120_000 },
          (err, stdout, stderr) =>
            err ? reject(new Error(`${err.message}\n${stderr.slice(0, 2000)}`)) : resolve({ stdout }),
        );
      });
      const lines = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { file: string; problems: unknown[]; headers: unknown[] });
      expect(lines.map((l) => l.file)).toEqual(batch);
      for (const l of lines) {
        expect(Array.isArray(l.problems)).toBe(true);
        expect(Array.isArray(l.headers)).toBe(true);
      }
    },
    150_000,
  );
});
