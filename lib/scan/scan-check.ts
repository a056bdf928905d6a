import type { ContentVerdict } from '../auth/index.ts';
import type { Logger } from '../kernel/index.ts';
import { errorText } from '../kernel/index.ts';
import { createClamavScanner } from './clamav.ts';
import { createRspamdScanner } from './rspamd.ts';
import {
  RSPAMD_ACTIONS,
  type RspamdAction,
  type ScanInput,
  type SpamScanner,
  type VirusScanner,
} from './types.ts';

/** How the end-of-DATA scan decides (the `scan` config with its defaults, see `ScanOptions`). */
export interface ScanPolicy {
  /** A scanner down or slow: `open` accepts with a `temperror` verdict, `closed` answers `451 4.3.0`. */
  failMode: 'open' | 'closed';
  /** `reject`: rspamd's `reject` → `550 5.7.1`, `soft reject` → `451 4.7.1`; `verdict-only`: never refuse. */
  spamAction: 'reject' | 'verdict-only';
  /** The mildest rspamd action whose verdict is `fail` (milder ones: `greylist` → `gray`, else `pass`). */
  spamThreshold: RspamdAction;
  /** `reject`: a virus → `554 5.7.1`; `verdict-only`: store it with `virus: fail`. */
  virusAction: 'reject' | 'verdict-only';
}

/** What the scan decided for one message. */
export type ScanDecision =
  | { reject: { code: number; message: string } }
  | { reject?: undefined; spam: ContentVerdict | null; virus: ContentVerdict | null };

/** The end-of-DATA scan: never rejects its promise. */
export type ScanCheck = (input: ScanInput) => Promise<ScanDecision>;

export interface ScanCheckOptions extends ScanPolicy {
  spam: { scanner: SpamScanner; timeoutMs: number } | null;
  virus: { scanner: VirusScanner; timeoutMs: number } | null;
  logger?: Logger;
}

/** The resolved `scan` config (see `ResolvedScanOptions`) as scanners. */
export interface ScanConfig extends ScanPolicy {
  rspamd: { url: string; password?: string; timeoutMs: number } | null;
  clamav: (({ host: string; port: number } | { socket: string }) & { timeoutMs: number }) | null;
}

/** Builds the scanners a resolved `scan` config names, and the check over them. */
export function scanCheckFromConfig(config: ScanConfig, logger?: Logger): ScanCheck {
  const { rspamd, clamav } = config;
  return createScanCheck({
    ...config,
    spam: rspamd
      ? {
          scanner: createRspamdScanner({
            url: rspamd.url,
            ...(rspamd.password ? { password: rspamd.password } : {}),
          }),
          timeoutMs: rspamd.timeoutMs,
        }
      : null,
    virus: clamav
      ? {
          scanner: createClamavScanner(
            'socket' in clamav ? { socket: clamav.socket } : { host: clamav.host, port: clamav.port },
          ),
          timeoutMs: clamav.timeoutMs,
        }
      : null,
    ...(logger ? { logger } : {}),
  });
}

/**
 * Scans a message for spam and viruses at once, each scanner under its own deadline (I/O on this thread:
 * the scanners are other processes), and applies the policy: a virus → `554 5.7.1`; rspamd's `reject` →
 * `550 5.7.1`, `soft reject` → `451 4.7.1`; a scanner that fails or misses its deadline → a `temperror`
 * verdict (fail-open) or `451 4.3.0` (fail-closed). Otherwise the verdicts to keep with the message.
 */
export function createScanCheck(options: ScanCheckOptions): ScanCheck {
  const threshold = RSPAMD_ACTIONS.indexOf(options.spamThreshold);
  const log = options.logger;
  return async (input) => {
    const [spam, virus] = await Promise.all([
      options.spam ? spamVerdict(options.spam, input, threshold) : null,
      options.virus ? virusVerdict(options.virus, input) : null,
    ]);
    for (const failed of [spam, virus]) {
      if (failed?.verdict === 'temperror') {
        log?.warn('scan failed', {
          scanner: failed.scanner,
          error: failed.error,
          failMode: options.failMode,
        });
      }
    }
    if (virus?.verdict === 'fail' && options.virusAction === 'reject') {
      return { reject: { code: 554, message: `5.7.1 Message refused: virus found (${virus.virus})` } };
    }
    if (spam && options.spamAction === 'reject') {
      if (spam.action === 'reject')
        return { reject: { code: 550, message: '5.7.1 Message refused as spam' } };
      if (spam.action === 'soft reject') {
        return { reject: { code: 451, message: '4.7.1 Message deferred as likely spam, try again later' } };
      }
    }
    if (options.failMode === 'closed' && (spam?.verdict === 'temperror' || virus?.verdict === 'temperror')) {
      return { reject: { code: 451, message: '4.3.0 Cannot scan the message now, try again later' } };
    }
    return { spam, virus };
  };
}

async function spamVerdict(
  spam: NonNullable<ScanCheckOptions['spam']>,
  input: ScanInput,
  threshold: number,
): Promise<ContentVerdict> {
  try {
    const scan = await spam.scanner.check(input, AbortSignal.timeout(spam.timeoutMs));
    const rank = RSPAMD_ACTIONS.indexOf(scan.action);
    return {
      verdict: rank >= threshold ? 'fail' : scan.action === 'greylist' ? 'gray' : 'pass',
      scanner: 'rspamd',
      action: scan.action,
      score: scan.score,
      requiredScore: scan.requiredScore,
      symbols: scan.symbols,
    };
  } catch (err) {
    return { verdict: 'temperror', scanner: 'rspamd', error: errorText(err) };
  }
}

async function virusVerdict(
  virus: NonNullable<ScanCheckOptions['virus']>,
  input: ScanInput,
): Promise<ContentVerdict> {
  try {
    const scan = await virus.scanner.scan(input.raw, AbortSignal.timeout(virus.timeoutMs));
    return scan.virus
      ? { verdict: 'fail', scanner: 'clamav', virus: scan.virus }
      : { verdict: 'pass', scanner: 'clamav' };
  } catch (err) {
    return { verdict: 'temperror', scanner: 'clamav', error: errorText(err) };
  }
}

/**
 * One line for the start-up message: which scanners run and how, e.g. `scanning mail with rspamd at
 * http://127.0.0.1:11333 and ClamAV at 127.0.0.1:3310 (fail-open)`; null when scanning is off.
 */
export function scanSummary(config: ScanConfig | null | undefined): string | null {
  if (!config || (!config.rspamd && !config.clamav)) return null;
  const scanners: string[] = [];
  if (config.rspamd) scanners.push(`rspamd at ${config.rspamd.url}`);
  if (config.clamav) {
    const at =
      'socket' in config.clamav ? config.clamav.socket : `${config.clamav.host}:${config.clamav.port}`;
    scanners.push(`ClamAV at ${at}`);
  }
  const policy = [`fail-${config.failMode}`];
  if (config.rspamd && config.spamAction === 'verdict-only') policy.push('spam: verdict only');
  if (config.clamav && config.virusAction === 'verdict-only') policy.push('viruses: verdict only');
  return `scanning mail with ${scanners.join(' and ')} (${policy.join(', ')})`;
}
