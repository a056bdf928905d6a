import * as z from 'zod';
import { actionSchemas } from '../actions/index.ts';
import {
  CONTENT_RESULTS,
  type ContentResult,
  normalizeDomain,
  RouteConfigError,
  recipientPatternDomain,
  routerFromConfig,
} from '../routing/index.ts';
import { isPasswordHash } from '../submission/index.ts';
import { attachmentsSchema } from './attachments-config.ts';
import { authConditionsSchema, authSchema, resolveAuthOptions } from './auth-config.ts';
import { ConfigError } from './errors.ts';
import { isIpOrCidr } from './ip-or-cidr.ts';
import { replyAddressSchema } from './reply-address-config.ts';
import { replyLimitsSchema } from './reply-limits-config.ts';
import { retentionSchema } from './retention-config.ts';
import { retrySchema } from './retry-config.ts';
import { resolveScanOptions, scanSchema } from './scan-config.ts';
import type { MailroomConfig, MailroomOptions, ScanOptions } from './types.ts';

const domainName = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i, {
    message: 'must be a domain name such as example.com',
  });

const valuePattern = z.union([z.string(), z.instanceof(RegExp)]);
const recipientPattern = z.union([
  z.string().min(1, { message: 'must not be empty' }),
  z.instanceof(RegExp),
  z.object({ domain: domainName }).strict(),
]);

/** One action: the schema of its kind (each kind defines its own, see lib/actions/kinds). */
const action = z.discriminatedUnion('kind', actionSchemas(), {
  // An unknown or missing kind: name the field and the kinds there are.
  error: (issue) => (issue.code === 'invalid_union' ? noMatchingKind(issue) : undefined),
});

const contentResult = z.enum(CONTENT_RESULTS as [ContentResult, ...ContentResult[]], {
  message: `must be one of ${CONTENT_RESULTS.join(', ')}`,
});
const contentResults = z.union(
  [contentResult, z.array(contentResult).min(1, { message: 'give at least one result' })],
  { message: `must be one of ${CONTENT_RESULTS.join(', ')}, or a list of them` },
);

const route = z
  .object({
    name: z.string().min(1).optional(),
    match: z.union([recipientPattern, z.array(recipientPattern).min(1)], {
      error: (issue) =>
        issue.code === 'invalid_union'
          ? 'must be an address pattern such as "support@example.com", a RegExp, { domain } or a list of them'
          : undefined,
    }),
    when: z
      .object({
        sender: z.union([valuePattern, z.array(valuePattern)]).optional(),
        from: z.union([valuePattern, z.array(valuePattern)]).optional(),
        subject: valuePattern.optional(),
        headers: z.record(z.string(), valuePattern).optional(),
        // Which results each method can give is checked by the router.
        auth: authConditionsSchema.optional(),
        spam: contentResults.optional(),
        virus: contentResults.optional(),
      })
      .strict()
      .optional(),
    action: z.union([action, z.array(action).min(1)], {
      error: (issue) =>
        issue.code === 'invalid_union'
          ? 'must be an action such as mailbox("support") or handler(fn), or a list of them'
          : undefined,
    }),
    continue: z.boolean().optional(),
    caseSensitive: z.boolean().optional(),
    // Whether param is a capture, fallback names a route and keys are set is checked by the router.
    replyToken: z
      .object({
        param: z.string().min(1, { message: 'name the capture that holds the token' }),
        fallback: z.string().min(1, { message: 'must be the name of another route' }).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * `delivery.concurrency` when the config leaves it null: messages processed at once in processing worker
 * threads, on the SMTP thread (`workers: 0`, `mailroom/testing`), and per SQS batch in the AWS processor.
 */
export const DEFAULT_CONCURRENCY = { workerThreads: 16, smtpThread: 4, lambda: 4 } as const;

const port = z.number().int().min(0).max(65535);
const positiveInt = z.number().int().positive();

const schema = z
  .object({
    domains: z.array(domainName).min(1, { message: 'list at least one domain' }),
    routes: z.array(route),
    dataDir: z.string().min(1).default('.mailroom'),
    smtp: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: port.default(2525),
        hostname: z.string().min(1).default('mailroom.local'),
        maxMessageBytes: positiveInt.default(25 * 1024 * 1024),
        maxRecipients: positiveInt.default(100),
        socketTimeoutMs: positiveInt.default(300_000),
        closeTimeoutMs: z.number().int().nonnegative().default(30_000),
        maxClients: positiveInt.default(100),
        maxClientsPerIp: positiveInt.default(10),
        maxClientsPerNetwork: positiveInt.default(20),
        evictIdleAfterMs: z.number().int().nonnegative().default(10_000),
        maxSessionMs: z.number().int().nonnegative().default(1_800_000),
        minDataRateBytesPerSecond: z.number().int().nonnegative().default(500),
        dataRateGraceMs: z.number().int().nonnegative().default(30_000),
        maxPipelinedCommands: positiveInt.default(1000),
        connectionRatePerIp: z.number().int().nonnegative().default(100),
        messageRatePerIp: z.number().int().nonnegative().default(300),
        rateWindowMs: positiveInt.default(60_000),
        limitExemptIps: z
          .array(z.string().refine(isIpOrCidr, { message: 'must be an IP address or a CIDR range' }))
          .default(['127.0.0.1', '::1']),
        maxBadCommands: positiveInt.default(10),
        maxCommandLineBytes: positiveInt
          .min(512, { message: 'must be at least 512 (RFC 5321 §4.5.3.1.4)' })
          .default(512),
        greetingDelayMs: z
          .number()
          .int({ message: 'must be a whole number of milliseconds' })
          .min(0, { message: 'must be 0 (greet at once) or more' })
          .max(30_000, { message: 'must be at most 30000 (30 seconds)' })
          .default(100),
        greetingTimeoutMs: positiveInt.default(300_000),
        mailTimeoutMs: positiveInt.default(300_000),
        rcptTimeoutMs: positiveInt.default(300_000),
        dataInitiationTimeoutMs: positiveInt.default(120_000),
        dataBlockTimeoutMs: positiveInt.default(180_000),
        dataTerminationTimeoutMs: positiveInt.default(600_000),
        tls: z
          .union([
            z.object({ cert: z.string().min(1), key: z.string().min(1) }).strict(),
            z.literal('self-signed'),
            z.literal(false),
          ])
          .nullable()
          .default(null),
        proxyProtocol: z
          .object({
            trustedProxies: z
              .array(z.string().refine(isIpOrCidr, { message: 'must be an IP address or a CIDR range' }))
              .min(1, { message: 'list at least one proxy address' }),
            timeoutMs: positiveInt.default(10_000),
          })
          .strict()
          .nullable()
          .default(null),
      })
      .strict()
      .prefault({}),
    http: z
      .object({ host: z.string().default('127.0.0.1'), port: port.default(8025) })
      .strict()
      .prefault({}),
    delivery: z
      .object({
        attempts: positiveInt.max(100).default(5),
        backoffMs: z.number().int().nonnegative().default(500),
        maxBackoffMs: z.number().int().nonnegative().default(30_000),
        concurrency: positiveInt.max(256).nullable().default(null),
        processingDelayMaxMs: z.number().int().nonnegative().max(600_000).default(2000),
        workers: z.number().int().nonnegative().max(256).default(1),
      })
      .strict()
      .prefault({}),
    parse: z
      .object({
        maxParts: positiveInt.default(1000),
        maxDepth: positiveInt.default(32),
        maxHeaderBytes: positiveInt.default(1024 * 1024),
        maxHeaders: positiveInt.default(2000),
      })
      .strict()
      .prefault({}),
    outbound: z
      .object({
        mode: z.enum(['outbox', 'smtp']).default('outbox'),
        from: z.string().min(3).optional(),
        replyLimits: replyLimitsSchema,
        smtp: z
          .object({
            host: z.string().min(1),
            port: port.optional(),
            secure: z.boolean().optional(),
            requireTLS: z.boolean().optional(),
            auth: z.object({ user: z.string(), pass: z.string() }).strict().optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .refine((o) => o.mode !== 'smtp' || o.smtp !== undefined, {
        message: 'mode "smtp" needs smtp: { host }',
        path: ['smtp'],
      })
      .prefault({}),
    submission: z
      .object({
        port: port.default(587),
        host: z.string().min(1).optional(),
        users: z
          .record(
            z.string().min(1),
            z.string().refine(isPasswordHash, {
              message:
                'must be a scrypt hash from `mailroom hash-password` (scrypt$N$r$p$salt$hash), not a password',
            }),
          )
          .default({}),
        usersSecret: z.string().min(1).optional(),
        maxLoginFailures: positiveInt.default(5),
        loginFailureWindowMs: positiveInt.default(300_000),
      })
      .strict()
      .nullable()
      .default(null),
    auth: authSchema,
    scan: scanSchema,
    retry: retrySchema,
    retention: retentionSchema,
    replyAddress: replyAddressSchema,
    attachments: attachmentsSchema,
  })
  .strict();

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (typeof p === 'string' && /^[A-Za-z_$][\w$]*$/.test(p)) out += out ? `.${p}` : p;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out || '(config)';
}

/** A value as a problem quotes it: short primitives as written, anything else by its kind. */
function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return value.length > 40 ? `'${value.slice(0, 40)}…'` : `'${value}'`;
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  if (value instanceof RegExp) return 'a RegExp';
  return `a ${typeof value}`;
}

/** Allowed values as a problem lists them: plain words bare, anything else as JSON. */
function allowed(values: readonly unknown[]): string {
  return values.map((v) => (typeof v === 'string' && /^[\w.-]+$/.test(v) ? v : JSON.stringify(v))).join(', ');
}

function oneOf(values: readonly unknown[], input: unknown): string {
  return values.length === 1
    ? `must be ${allowed(values)}, got ${shown(input)}`
    : `must be one of ${allowed(values)}, got ${shown(input)}`;
}

/** The message of a discriminated union that found no option for the input's `kind`. */
function noMatchingKind(issue: {
  input?: unknown;
  discriminator?: string | undefined;
  options?: readonly unknown[];
}): string | undefined {
  if (!issue.discriminator || !issue.options) return undefined;
  const input = issue.input as Record<string, unknown> | null | undefined;
  const value = input && typeof input === 'object' ? input[issue.discriminator] : undefined;
  return oneOf(issue.options, value);
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  function: 'a function',
};

/** zod's own wording, which the problems below replace with ours (custom messages are kept). */
const ZOD_DEFAULT = /^Invalid (input|option)\b/;

/** An issue that says the input is not even of the option's type (a list given to an enum, say). */
function notOfThisType(issue: z.core.$ZodIssue): boolean {
  if (issue.path.length > 0) return false;
  if (issue.code === 'invalid_type') return true;
  return issue.code === 'invalid_value' && issue.input !== null && typeof issue.input === 'object';
}

/**
 * One line per problem, `path: what is wrong`: enum-like fields list the values allowed and the value
 * given; of a union's options, the one the input was meant for speaks (a list for a list, and so on).
 */
function describeIssue(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[] = []): string[] {
  const path = [...prefix, ...issue.path];
  const line = (message: string) => [`${formatPath(path)}: ${message}`];
  const custom = !ZOD_DEFAULT.test(issue.message);
  switch (issue.code) {
    case 'invalid_value':
      return line(custom ? issue.message : oneOf(issue.values, issue.input));
    case 'invalid_type': {
      if (custom) return line(issue.message);
      const type = TYPE_NAMES[issue.expected] ?? `a ${issue.expected}`;
      return line(
        issue.input === undefined ? `is required (${type})` : `must be ${type}, got ${shown(issue.input)}`,
      );
    }
    case 'unrecognized_keys':
      return line(
        `unknown ${issue.keys.length === 1 ? 'key' : 'keys'} ${issue.keys.map((k) => `'${k}'`).join(', ')}`,
      );
    case 'invalid_union': {
      // The options the input could not even be (a string given to a list) say nothing useful.
      const meant = issue.errors.filter((branch) => !branch.every(notOfThisType));
      if (meant.length === 1) return meant[0]!.flatMap((i) => describeIssue(i, path));
      // Several literals (and types) at this very path: list them all.
      const roots = issue.errors.flat();
      if (roots.length > 0 && roots.every((i) => i.path.length === 0) && (!custom || meant.length > 0)) {
        const values = roots.flatMap((i) => (i.code === 'invalid_value' ? i.values : []));
        const types = roots.flatMap((i) =>
          i.code === 'invalid_type' ? [TYPE_NAMES[i.expected] ?? `a ${i.expected}`] : [],
        );
        if (values.length + types.length === roots.length) {
          const all = [...(values.length ? [allowed(values)] : []), ...types];
          return line(
            `must be ${values.length + types.length > 1 ? 'one of ' : ''}${all.join(', ')}, got ${shown(issue.input)}`,
          );
        }
      }
      return line(issue.message);
    }
    default:
      return line(issue.message);
  }
}

const warningsOf = new WeakMap<MailroomConfig, readonly string[]>();

/**
 * What {@link resolveConfig} noticed about a valid config that is probably a mistake (a route for a domain
 * that is not in `domains`, which therefore never gets mail). The CLI prints them at start.
 */
export function configWarnings(config: MailroomConfig): readonly string[] {
  return warningsOf.get(config) ?? [];
}

/** Routes whose patterns name domains we do not receive for: the router refuses that mail at RCPT. */
function domainWarnings(config: MailroomConfig): string[] {
  const domains = config.domains.map(normalizeDomain);
  const listed = `[${config.domains.join(', ')}]`;
  const warnings: string[] = [];
  config.routes.forEach((route, index) => {
    const label = route.name ? `route '${route.name}'` : `routes[${index}]`;
    for (const pattern of Array.isArray(route.match) ? route.match : [route.match]) {
      const domain = recipientPatternDomain(pattern);
      if (!domain || domains.some(domain.matches)) continue;
      const which = domain.wildcard
        ? `no domain in domains ${listed} matches ${domain.source}`
        : `${domain.source} is not in domains ${listed}`;
      const shownPattern = typeof pattern === 'string' ? pattern : `{ domain: '${domain.source}' }`;
      warnings.push(
        `${label} matches ${shownPattern}, but ${which}: mail for it is refused at RCPT (550 5.7.1), ` +
          'so this pattern never matches',
      );
    }
  });
  return warnings;
}

/**
 * Validates user options once, at start, and fills in every default. What is valid but probably a mistake
 * is kept for {@link configWarnings}.
 * @throws ConfigError naming every bad field at once.
 */
export function resolveConfig(options: unknown): MailroomConfig {
  const result = schema.safeParse(options, { reportInput: true });
  if (!result.success) {
    const problems = result.error.issues.flatMap((issue) => describeIssue(issue));
    throw new ConfigError([...new Set(problems)]);
  }
  const config = result.data as unknown as MailroomConfig;
  config.domains = config.domains.map((d) => d.toLowerCase());
  config.auth = resolveAuthOptions(result.data.auth, config.smtp.hostname);
  config.scan = resolveScanOptions(result.data.scan as ScanOptions | undefined);
  const late = (['rspamd', 'clamav'] as const).filter(
    (name) => (config.scan?.[name]?.timeoutMs ?? 0) >= config.smtp.dataTerminationTimeoutMs,
  );
  if (late.length > 0) {
    throw new ConfigError(
      late.map(
        (name) =>
          `scan.${name}.timeoutMs: must be shorter than smtp.dataTerminationTimeoutMs (${config.smtp.dataTerminationTimeoutMs})`,
      ),
    );
  }
  try {
    routerFromConfig(config);
  } catch (err) {
    if (err instanceof RouteConfigError) throw new ConfigError(err.problems, { cause: err });
    throw err;
  }
  warningsOf.set(config, domainWarnings(config));
  return config;
}

/** Types a config file's default export. Validation happens when Mailroom loads it. */
export function defineMailroom(options: MailroomOptions): MailroomOptions {
  return options;
}
