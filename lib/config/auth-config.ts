import * as z from 'zod';
import type { AuthResult, DnsResolver } from '../auth/index.ts';
import {
  createStaticResolver,
  createSystemResolver,
  normalizeAuthservId,
  type StaticZone,
} from '../auth/index.ts';
import { METHOD_RESULTS } from '../routing/index.ts';
import { ConfigError } from './errors.ts';
import type { AuthOptions, ResolvedAuthOptions } from './types.ts';

const DNS_ERROR_CODES = ['ENOTFOUND', 'ENODATA', 'ETIMEOUT', 'ESERVFAIL', 'EREFUSED'] as const;

/** The shape of a {@link StaticZone}: name → records. Used for `auth.dns` and for zone files (`--dns`). */
export const staticZoneSchema = z.record(
  z.string().min(1, { message: 'names must not be empty' }),
  z
    .object({
      TXT: z.array(z.union([z.string(), z.array(z.string())])).optional(),
      MX: z
        .array(z.object({ exchange: z.string(), priority: z.number().int().nonnegative() }).strict())
        .optional(),
      A: z.array(z.string()).optional(),
      AAAA: z.array(z.string()).optional(),
      PTR: z.array(z.string()).optional(),
      CNAME: z.string().optional(),
      error: z.enum(DNS_ERROR_CODES).optional(),
    })
    .strict(),
);

function isAuthservId(value: string): boolean {
  try {
    normalizeAuthservId(value);
    return true;
  } catch {
    return false;
  }
}

/** One result a method can give, or a list of them. */
function authResults(method: keyof typeof METHOD_RESULTS) {
  const result = z.enum(METHOD_RESULTS[method] as [AuthResult, ...AuthResult[]]);
  return z.union([result, z.array(result).min(1, { message: 'give at least one result' })]);
}

/** A route's `when.auth` (see `AuthConditions`). */
export const authConditionsSchema = z
  .object({
    spf: authResults('spf').optional(),
    dkim: authResults('dkim').optional(),
    dmarc: authResults('dmarc').optional(),
    dmarcAligned: z.boolean().optional(),
  })
  .strict();

/** The `auth` part of the config schema; defaults are filled in by {@link resolveAuthOptions}. */
export const authSchema = z
  .object({
    authservId: z
      .string()
      .refine(isAuthservId, { message: "must be a host name (letters, digits, '.', '-', '_')" })
      .optional(),
    resolver: z
      .custom<DnsResolver>((v) => typeof v === 'function', {
        message: 'must be a function (name, rrtype) => Promise<answer>',
      })
      .optional(),
    dns: staticZoneSchema.optional(),
    checkAtData: z.boolean().optional(),
    dmarcReject: z.boolean().optional(),
    checkDeadlineMs: z.number().int().positive().optional(),
    cacheSeconds: z
      .number()
      .int({ message: 'must be a whole number of seconds' })
      .min(0, { message: 'must be 0 (no cache) or more' })
      .max(3600, { message: 'must be at most 3600 (an hour)' })
      .optional(),
  })
  .strict()
  .refine((a) => a.resolver === undefined || a.dns === undefined, {
    message: 'give either resolver or dns, not both',
    path: ['dns'],
  })
  .prefault({});

/**
 * Fills in the `auth` defaults: the authserv-id is `smtp.hostname`; the resolver is `auth.resolver`, else
 * one answering from `auth.dns`, else the system's DNS ({@link createSystemResolver}).
 * @throws ConfigError when no authserv-id is given and `smtp.hostname` is not a host name.
 */
export function resolveAuthOptions(auth: AuthOptions, smtpHostname: string): ResolvedAuthOptions {
  const id = auth.authservId ?? smtpHostname;
  if (!isAuthservId(id)) {
    throw new ConfigError([
      `auth.authservId: smtp.hostname ${JSON.stringify(smtpHostname)} is not a host name; set auth.authservId`,
    ]);
  }
  const authservId = normalizeAuthservId(id);
  const cacheSeconds = auth.cacheSeconds ?? 60;
  const resolver =
    auth.resolver ??
    (auth.dns ? createStaticResolver(auth.dns as StaticZone) : createSystemResolver({ cacheSeconds }));
  const dmarcReject = auth.dmarcReject ?? false;
  return {
    authservId,
    resolver,
    dmarcReject,
    checkAtData: dmarcReject ? true : (auth.checkAtData ?? null),
    deadlineMs: auth.checkDeadlineMs ?? 15_000,
    cacheSeconds,
  };
}
