import * as z from 'zod';
import { isSendableAddress, parseSenderAddress } from '../outbound/sender-address.ts';
import { RouteConfigError } from '../routing/errors.ts';
import { routerFromConfig } from '../routing/router.ts';
import { CONTENT_RESULTS, type ContentResult } from '../routing/types.ts';
import { isPasswordHash } from '../submission/password-hash.ts';
import { authConditionsSchema, authSchema, resolveAuthOptions } from './auth-config.ts';
import { ConfigError } from './errors.ts';
import { isIpOrCidr } from './ip-or-cidr.ts';
import { replyAddressSchema } from './reply-address-config.ts';
import { replyLimitsSchema } from './reply-limits-config.ts';
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

/** Lambda's FunctionName pattern (name, ARN or partial ARN, optional `:qualifier` in group 9). */
const LAMBDA_FUNCTION =
  /^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(?:function:)?[a-zA-Z0-9_.-]+(:(\$LATEST|[a-zA-Z0-9_-]+))?$/;
/** An EventBridge bus name or ARN. */
const EVENT_BUS = /^(arn:aws[\w-]*:events:[a-z0-9-]+:\d{12}:event-bus\/)?[/.\-_A-Za-z0-9]{1,256}$/;

function isSenderAddress(value: string): boolean {
  try {
    parseSenderAddress(value);
    return true;
  } catch {
    return false;
  }
}

const action = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('mailbox'),
    mailbox: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, {
      message: 'mailbox names are 1–64 letters, digits, dot, underscore or dash',
    }),
  }),
  z.object({
    kind: z.literal('handler'),
    name: z.string().min(1),
    fn: z.custom<(...args: unknown[]) => unknown>((v) => typeof v === 'function', {
      message: 'must be a function',
    }),
  }),
  z.object({
    kind: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }),
    secret: z.string().min(1).optional(),
    timeoutMs: z.number().int().positive().optional(),
  }),
  z.object({
    kind: z.literal('reject'),
    code: z.number().int().min(400).max(599),
    text: z.string(),
  }),
  z.object({ kind: z.literal('drop') }),
  z
    .object({
      kind: z.literal('lambda'),
      functionName: z
        .string()
        .refine((s) => s.length <= 170, { message: 'must be at most 170 characters' })
        .regex(LAMBDA_FUNCTION, {
          message:
            'must be a Lambda function name, ARN or partial ARN (letters, digits, - and _ in the name)',
        }),
      qualifier: z
        .string()
        .regex(/^[A-Za-z0-9$_-]{1,128}$/, { message: 'must be a version or alias name such as "live"' })
        .optional(),
    })
    .refine((a) => a.qualifier === undefined || LAMBDA_FUNCTION.exec(a.functionName)?.[9] === undefined, {
      message: 'give the version or alias either in functionName or as qualifier, not both',
      path: ['qualifier'],
    }),
  z.object({
    kind: z.literal('eventBridge'),
    eventBusName: z
      .string()
      .regex(EVENT_BUS, { message: 'must be an event bus name (or ARN) such as "default"' }),
    source: z
      .string()
      .min(1, { message: 'must not be empty' })
      .refine((s) => s.length <= 256, { message: 'must be at most 256 characters' })
      .refine((s) => !s.startsWith('aws.'), { message: 'must not start with "aws." (reserved for AWS)' })
      .optional(),
    detailType: z
      .string()
      .min(1, { message: 'must not be empty' })
      .refine((s) => s.length <= 128, { message: 'must be at most 128 characters' })
      .optional(),
  }),
  z.object({
    kind: z.literal('forward'),
    // One address as a string is a list of one (as `forward('ops@example.net')` builds it).
    to: z.preprocess(
      (v) => (typeof v === 'string' ? [v] : v),
      z
        .array(
          z
            .string()
            .refine(isSendableAddress, { message: 'must be an email address such as ops@example.net' }),
        )
        .min(1, { message: 'give at least one address' })
        // A refinement, not .max(): zod's length limits abort the action union's error reporting.
        .refine((to) => to.length <= 50, { message: 'at most 50 addresses (the SES limit per message)' }),
    ),
    from: z
      .string()
      .refine(isSenderAddress, {
        message: 'must be one address: "fwd@example.com" or "Name <fwd@example.com>"',
      })
      .optional(),
  }),
]);

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
    match: z.union([recipientPattern, z.array(recipientPattern).min(1)]),
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
      message: 'must be an action such as mailbox("support") or handler(fn)',
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
        concurrency: positiveInt.max(256).default(4),
        processingDelayMaxMs: z.number().int().nonnegative().max(600_000).default(2000),
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
    replyAddress: replyAddressSchema,
  })
  .strict();

function formatPath(path: PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(config)';
}

/**
 * Validates user options once, at start, and fills in every default.
 * @throws ConfigError naming every bad field at once.
 */
export function resolveConfig(options: unknown): MailroomConfig {
  const result = schema.safeParse(options);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
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
  return config;
}

/** Types a config file's default export. Validation happens when Mailroom loads it. */
export function defineMailroom(options: MailroomOptions): MailroomOptions {
  return options;
}
