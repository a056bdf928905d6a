import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from './errors.ts';
import { resolveConfig } from './resolve-config.ts';
import type { MailroomConfig } from './types.ts';

/**
 * Imports a config module (`.ts` works: the CLI runs under tsx) and validates its default export.
 * @throws ConfigError for a missing file, a module that fails to load, or invalid options.
 */
export async function loadConfig(file: string): Promise<MailroomConfig> {
  const path = resolve(file);
  try {
    await access(path);
  } catch (cause) {
    throw new ConfigError([`config file not found: ${file}`], { cause });
  }
  let mod: { default?: unknown };
  try {
    // tsImport loads TypeScript as ESM even where no package.json says "type": "module".
    mod = /\.[cm]?ts$/.test(path)
      ? await (await import('tsx/esm/api')).tsImport(pathToFileURL(path).href, import.meta.url)
      : await import(pathToFileURL(path).href);
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new ConfigError([`config file ${file} failed to load: ${msg}`], { cause });
  }
  let options = mod.default;
  // A module compiled to CommonJS shows up as { default: { default: options } }.
  if (options && typeof options === 'object' && 'default' in options && !('domains' in options)) {
    options = (options as { default: unknown }).default;
  }
  if (options === undefined) {
    throw new ConfigError([
      `config file ${file} has no default export (export default defineMailroom({...}))`,
    ]);
  }
  return resolveConfig(options);
}
