import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { actionGrants } from '../lib/actions/index.ts';
import type { MailroomConfig } from '../lib/config/types.ts';
import { MailroomError } from '../lib/kernel/index.ts';
import { cdkModule, PACKAGE_ROOT, RUNNING_FROM_SOURCE } from './package-files.ts';
import { sesRecipientsFor } from './ses-recipients.ts';

/** What the constructs need to know of a user's config at synth time (plain JSON). */
export interface ConfigSummary {
  /** `domains` of the config. */
  readonly domains: string[];
  /** The recipients an SES receipt rule should accept (see `sesRecipientsFor`). */
  readonly sesRecipients: string[];
  /** Every `lambda()` target of the routes, once each. */
  readonly lambdaTargets: { readonly functionName: string; readonly qualifier?: string }[];
  /** Every `eventBridge()` bus (name or ARN) of the routes, once each. */
  readonly eventBuses: string[];
  /** The config signs reply addresses (`replyAddress`): the processor needs a reply key secret. */
  readonly replyAddress: boolean;
  /** The submission listener (`submission`), when the config has one: the SMTP ingress opens 587 for it. */
  readonly submission: { readonly port: number; readonly usersSecret?: string } | null;
  /** The SMTP timeouts a draining task must cover (`smtp.dataTerminationTimeoutMs`, `smtp.closeTimeoutMs`). */
  readonly smtpTimeouts: { readonly dataTerminationMs: number; readonly closeMs: number };
}

/** The summary of a loaded (validated) config. Pure: the child process runs it on the real config. */
export function summarizeConfig(
  config: Pick<MailroomConfig, 'domains' | 'routes' | 'replyAddress' | 'submission' | 'smtp'>,
): ConfigSummary {
  // What each action needs is its kind's to say (lib/actions/kinds); here only which statement it goes in.
  const grants = actionGrants(config);
  return {
    domains: [...config.domains],
    sesRecipients: sesRecipientsFor(config),
    lambdaTargets: grants.flatMap((grant) => ('lambdaInvoke' in grant ? [grant.lambdaInvoke] : [])),
    eventBuses: grants.flatMap((grant) => ('eventBusPut' in grant ? [grant.eventBusPut] : [])),
    replyAddress: config.replyAddress !== null && config.replyAddress !== undefined,
    submission: config.submission
      ? {
          port: config.submission.port,
          ...(config.submission.usersSecret ? { usersSecret: config.submission.usersSecret } : {}),
        }
      : null,
    smtpTimeouts: {
      dataTerminationMs: config.smtp.dataTerminationTimeoutMs,
      closeMs: config.smtp.closeTimeoutMs,
    },
  };
}

/** The config could not be loaded at synth; `message` is the loader's own (file:line:column, field names). */
export class ConfigSummaryError extends MailroomError {
  override readonly name = 'ConfigSummaryError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { retryable: false, cause: options?.cause });
  }
}

const cache = new Map<string, ConfigSummary>();

/**
 * Loads the user's config the way `mailroom dev` does (the running Mailroom's `loadConfig`, so `mailroom`
 * imports, TypeScript and errors behave the same) and summarizes it. Construct constructors are
 * synchronous and a config module can only be imported asynchronously, so this runs in a child `node`
 * (in this repository through tsx, a devDependency here). Cached per file and modification time: every
 * construct of one synth reads one config once.
 * @throws ConfigSummaryError with the loader's message.
 */
export function readConfigSummary(configFile: string): ConfigSummary {
  const key = `${configFile}\0${statSync(configFile).mtimeMs}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const loader = RUNNING_FROM_SOURCE
    ? ['--import', pathToFileURL(createRequire(join(PACKAGE_ROOT, 'package.json')).resolve('tsx')).href]
    : [];
  let out: string;
  try {
    out = execFileSync(process.execPath, [...loader, cdkModule('config-summary-cli'), configFile], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    const reported = /^\{.*\}$/m.exec(e.stdout ?? '')?.[0];
    const message = reported
      ? (JSON.parse(reported) as { error: string }).error
      : (e.stderr || e.message).trim();
    throw new ConfigSummaryError(message, { cause: err });
  }
  const summary = JSON.parse(out) as ConfigSummary;
  cache.set(key, summary);
  return summary;
}
