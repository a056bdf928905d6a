import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../../kernel/index.ts';
import { CliError, UsageError } from '../errors.ts';
import type { InitArgs } from './init.usage.ts';

/** The starter's files, shipped as they are in the package (`templates/` is in package.json `files`). */
export const STARTER_TEMPLATE = join(PACKAGE_ROOT, 'templates', 'starter');

/**
 * Template files stored without their leading dot: npm never packs a `.gitignore` (it reads it as ignore
 * rules instead) nor an `.npmrc`, so a dotted template would be missing from the installed package.
 */
const UNDOTTED = new Set(['gitignore', 'npmrc']);

/** What `{{name}}`, `{{domain}}` and `{{version}}` become in the starter's files. */
export interface StarterValues {
  /** The project's package name. */
  name: string;
  domain: string;
  /** The running Mailroom's version: the starter depends on `mailroom@^version`. */
  version: string;
}

/** `mailroom init [dir]`: writes the starter project and prints the next steps. */
export async function initCommand({ values, positionals }: InitArgs): Promise<number> {
  const dir = resolve(positionals[0] ?? '.');
  const domain = checkDomain(values.domain ?? 'example.com');
  if (!values.force && (await hasEntries(dir))) {
    throw new CliError(`${dir} is not empty: choose a new folder, or pass --force to write into it`);
  }
  const files = await writeStarter(dir, { name: packageName(dir), domain, version: await ownVersion() });
  process.stdout.write(nextSteps(dir, files.length));
  return 0;
}

/**
 * Copies the starter template into `dir` with the values substituted; returns the paths written (relative
 * to `dir`, `/`-separated). Files of the same names are replaced, other files are left alone.
 */
export async function writeStarter(dir: string, values: StarterValues): Promise<string[]> {
  const written: string[] = [];
  for (const path of await templateFiles(STARTER_TEMPLATE)) {
    const parts = path.split('/');
    const last = parts.pop()!;
    const target = [...parts, UNDOTTED.has(last) ? `.${last}` : last].join('/');
    const text = await readFile(join(STARTER_TEMPLATE, path), 'utf8');
    await mkdir(dirname(join(dir, target)), { recursive: true });
    await writeFile(join(dir, target), substitute(text, values));
    written.push(target);
  }
  return written;
}

/** Replaces `{{key}}` for the keys of `values`; any other braces stay as they are. */
export function substitute(text: string, values: StarterValues): string {
  return text.replace(/\{\{(name|domain|version)\}\}/g, (_, key: keyof StarterValues) => values[key]);
}

/** Every file under `root`, relative and `/`-separated, sorted. */
async function templateFiles(root: string, sub = ''): Promise<string[]> {
  const entries = await readdir(join(root, sub), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const path = sub ? `${sub}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await templateFiles(root, path)));
    else files.push(path);
  }
  return files.sort();
}

/** Whether `dir` exists with something in it; a path that is not a folder is a mistake. */
async function hasEntries(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length > 0;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (code === 'ENOTDIR') throw new CliError(`${dir} is a file, not a folder`);
    throw err;
  }
}

/**
 * The domain goes into the starter's TypeScript as a string literal, so only a plain host name is taken
 * (letters, digits, hyphens, dots; at least two labels).
 */
function checkDomain(value: string): string {
  const domain = value.toLowerCase();
  const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
  if (domain.length > 253 || !new RegExp(`^(?:${label}\\.)+${label}$`).test(domain)) {
    throw new UsageError(`--domain must be a domain name like example.com, got '${value}'`);
  }
  return domain;
}

/** An npm package name from the folder's name (lower case, URL-safe), `mailroom-app` if nothing is left. */
function packageName(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|[._-]+$/g, '')
    .slice(0, 214);
  return name || 'mailroom-app';
}

async function ownVersion(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

function nextSteps(dir: string, fileCount: number): string {
  const where = relative(process.cwd(), dir);
  const cd = where ? `  cd ${/[^\w./-]/.test(where) ? JSON.stringify(where) : where}\n` : '';
  return `Wrote a Mailroom project to ${where || '.'} (${fileCount} files).

Next:
${cd}  npm install
  npm run dev       # SMTP on 127.0.0.1:2525, web page on http://127.0.0.1:8025/
  npm test          # test/mailroom.test.ts: your config and handler, in memory
  npm run deploy    # to your AWS account (once: npx cdk bootstrap)

README.md says more.
`;
}
