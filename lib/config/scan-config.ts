import * as z from 'zod';
import type { ResolvedScanOptions, ScanOptions } from './types.ts';

const timeoutMs = z.number().int().positive().max(600_000).optional();

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

const clamavTcp = z
  .object({
    host: z.string().min(1, { message: 'must not be empty' }),
    port: z.number().int().min(1).max(65_535),
    timeoutMs,
  })
  .strict();
const clamavSocket = z
  .object({ socket: z.string().min(1, { message: 'must not be empty' }), timeoutMs })
  .strict();

const ACTIONS = ['greylist', 'add header', 'rewrite subject', 'soft reject', 'reject'] as const;

/** The `scan` part of the config schema; defaults are filled in by {@link resolveScanOptions}. */
export const scanSchema = z
  .object({
    rspamd: z
      .object({
        url: z.string().refine(isHttpUrl, {
          message: 'must be the http(s) URL of rspamd’s normal worker, e.g. http://127.0.0.1:11333',
        }),
        password: z.string().min(1).optional(),
        timeoutMs,
      })
      .strict()
      .optional(),
    clamav: z
      .union([clamavTcp, clamavSocket], {
        message: "must be { host: '127.0.0.1', port: 3310 } or { socket: '/run/clamav/clamd.ctl' }",
      })
      .optional(),
    failMode: z.enum(['open', 'closed'], { message: "must be 'open' or 'closed'" }).optional(),
    spamAction: z
      .enum(['reject', 'verdict-only'], { message: "must be 'reject' or 'verdict-only'" })
      .optional(),
    spamThreshold: z
      .enum(ACTIONS, {
        message: `must be one of rspamd's actions: ${ACTIONS.map((a) => `'${a}'`).join(', ')}`,
      })
      .optional(),
    virusAction: z
      .enum(['reject', 'verdict-only'], { message: "must be 'reject' or 'verdict-only'" })
      .optional(),
  })
  .strict()
  .refine((s) => s.rspamd !== undefined || s.clamav !== undefined, {
    message: 'give rspamd, clamav or both (or leave scan out)',
  })
  .optional();

/** Fills in the `scan` defaults; null when scanning is off. */
export function resolveScanOptions(scan: ScanOptions | undefined): ResolvedScanOptions | null {
  if (!scan || (!scan.rspamd && !scan.clamav)) return null;
  const { rspamd, clamav } = scan;
  return {
    rspamd: rspamd
      ? {
          url: rspamd.url,
          ...(rspamd.password ? { password: rspamd.password } : {}),
          timeoutMs: rspamd.timeoutMs ?? 10_000,
        }
      : null,
    clamav: clamav
      ? 'socket' in clamav
        ? { socket: clamav.socket, timeoutMs: clamav.timeoutMs ?? 10_000 }
        : { host: clamav.host, port: clamav.port, timeoutMs: clamav.timeoutMs ?? 10_000 }
      : null,
    failMode: scan.failMode ?? 'open',
    spamAction: scan.spamAction ?? 'reject',
    spamThreshold: scan.spamThreshold ?? 'add header',
    virusAction: scan.virusAction ?? 'reject',
  };
}
