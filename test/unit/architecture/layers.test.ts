/**
 * The module layers of lib/ (`.dependency-cruiser.cjs`, run by `npm run lint`): the real tree has no
 * violation, and the same rules catch each kind of violation planted in a small throw-away tree.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cruise, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const require = createRequire(import.meta.url);
const config = require(join(ROOT, '.dependency-cruiser.cjs')) as {
  forbidden: unknown[];
  options: Record<string, unknown>;
};

async function cruiseTree(baseDir: string, roots: string[], tsConfig?: string): Promise<IViolation[]> {
  const { output } = await cruise(roots, {
    ...config.options,
    ...(tsConfig ? {} : { tsConfig: undefined }),
    baseDir,
    ruleSet: { forbidden: config.forbidden } as never,
    validate: true,
  } as never);
  return (output as ICruiseResult).summary.violations.filter((v) => v.rule.severity === 'error');
}

const show = (vs: IViolation[]) => vs.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);

describe('module layers', () => {
  it('the repository has no layer violation and no import cycle', { timeout: 120_000 }, async () => {
    const violations = await cruiseTree(ROOT, ['lib', 'functions', 'cdk'], 'tsconfig.json');
    expect(show(violations)).toEqual([]);
  });

  describe('a planted violation fails the check', () => {
    let dir: string;
    const plant = async (files: Record<string, string>) => {
      for (const [path, text] of Object.entries(files)) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), text);
      }
    };
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'mailroom-layers-'));
      await plant({
        // A clean pair: pipeline (higher) imports message (lower) through its index.
        'lib/message/index.ts': "export { parse } from './parse.ts';\n",
        'lib/message/parse.ts': 'export const parse = (s: string) => s;\n',
        'lib/pipeline/index.ts': "import { parse } from '../message/index.ts';\nexport const run = parse;\n",
        // message (a leaf) reaching up into pipeline.
        'lib/message/upward.ts': "import { run } from '../pipeline/index.ts';\nexport const up = run;\n",
        // store reaching past routing's index.
        'lib/routing/index.ts': "export { match } from './match.ts';\n",
        'lib/routing/match.ts': 'export const match = 1;\n',
        'lib/smtp/index.ts': "import { match } from '../routing/match.ts';\nexport const m = match;\n",
        // A file cycle inside one module.
        'lib/auth/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n",
        'lib/auth/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n",
        // The kernel importing a module.
        'lib/kernel/index.ts': "import { parse } from '../message/index.ts';\nexport const k = parse;\n",
      });
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('names each violation by its rule', { timeout: 60_000 }, async () => {
      const found = show(await cruiseTree(dir, ['lib']));
      expect(found).toContain('layer-message: lib/message/upward.ts → lib/pipeline/index.ts');
      expect(found).toContain('through-index: lib/smtp/index.ts → lib/routing/match.ts');
      expect(found).toContain('no-circular: lib/auth/a.ts → lib/auth/b.ts');
      expect(found).toContain('kernel-imports-nothing: lib/kernel/index.ts → lib/message/index.ts');
      expect(found.filter((v) => v.includes('lib/pipeline/index.ts → lib/message'))).toEqual([]);
    });
  });
});
