import { existsSync } from 'node:fs';
import { createStaticResolver } from '../auth/index.ts';
import type { MailroomConfig } from '../config/index.ts';
import { configWarnings, loadConfig } from '../config/index.ts';
import { logLevelProblem } from './console-logger.ts';
import { loadDnsZone } from './dns-zone.ts';
import { CliError } from './errors.ts';

/**
 * Resolves `--config`, then `MAILROOM_CONFIG`, then `./mailroom.config.ts`, and loads it. A DNS zone file
 * given by `dnsFlag` (`--dns`) or `MAILROOM_DNS_ZONE` replaces the config's resolver: every DNS question of
 * message authentication is then answered from that file (development and tests, never real DNS).
 */
export async function loadCliConfig(flag: string | undefined, dnsFlag?: string): Promise<MailroomConfig> {
  const config = await loadConfig(cliConfigFile(flag));
  const zoneFile = cliDnsZoneFile(dnsFlag);
  if (zoneFile) config.auth.resolver = createStaticResolver(await loadDnsZone(zoneFile));
  const secretId = config.submission?.usersSecret;
  if (config.submission && secretId) {
    config.submission.users = { ...config.submission.users, ...(await submissionUsersFrom(secretId)) };
  }
  return config;
}

/** The config file `loadCliConfig` loads: `--config`, then `MAILROOM_CONFIG`, then `./mailroom.config.ts`. */
export function cliConfigFile(flag: string | undefined): string {
  const file =
    flag ??
    process.env.MAILROOM_CONFIG ??
    (existsSync('mailroom.config.ts') ? 'mailroom.config.ts' : undefined);
  if (!file)
    throw new CliError('no config: pass --config FILE (or set MAILROOM_CONFIG, or add ./mailroom.config.ts)');
  return file;
}

/** The DNS zone file `loadCliConfig` answers from (`--dns`, then `MAILROOM_DNS_ZONE`), if any. */
export function cliDnsZoneFile(dnsFlag: string | undefined): string | undefined {
  return dnsFlag ?? process.env.MAILROOM_DNS_ZONE;
}

/**
 * Prints, one line each on stderr, what the config's validation noticed (see `configWarnings`: a route
 * for a domain not in `domains`, say) and a `MAILROOM_LOG_LEVEL` the logger cannot use.
 */
export function printStartWarnings(command: string, config: MailroomConfig): void {
  const level = logLevelProblem();
  for (const warning of [...configWarnings(config), ...(level ? [level] : [])]) {
    process.stderr.write(`mailroom ${command}: warning: ${warning}\n`);
  }
}

/**
 * Submission users kept in AWS Secrets Manager (`submission.usersSecret`), read once at start. The SDK is
 * loaded only here, at the CLI edge, and only when a config names a secret.
 */
async function submissionUsersFrom(secretId: string): Promise<Record<string, string>> {
  const [{ SecretsManagerClient }, { loadSubmissionUsers }] = await Promise.all([
    import('@aws-sdk/client-secrets-manager'),
    import('../aws/secrets-manager-users.ts'),
  ]);
  const client = new SecretsManagerClient({});
  try {
    return await loadSubmissionUsers(client, secretId);
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message : String(err), 2, { cause: err });
  } finally {
    client.destroy();
  }
}
