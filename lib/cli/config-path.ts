import { existsSync } from 'node:fs';
import { loadConfig } from '../config/load-config.ts';
import type { MailroomConfig } from '../config/types.ts';
import { CliError } from './errors.ts';

/** Resolves `--config`, then `MAILROOM_CONFIG`, then `./mailroom.config.ts`, and loads it. */
export async function loadCliConfig(flag: string | undefined): Promise<MailroomConfig> {
  const file =
    flag ??
    process.env.MAILROOM_CONFIG ??
    (existsSync('mailroom.config.ts') ? 'mailroom.config.ts' : undefined);
  if (!file)
    throw new CliError('no config: pass --config FILE (or set MAILROOM_CONFIG, or add ./mailroom.config.ts)');
  return loadConfig(file);
}
