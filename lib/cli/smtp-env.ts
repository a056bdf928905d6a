import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { MailroomConfig } from '../config/index.ts';
import { isIpOrCidr } from '../config/index.ts';
import { assertProductionReplyKeys, InsecureReplyKeyError } from '../routing/index.ts';
import { CliError, UsageError } from './errors.ts';

type Env = Record<string, string | undefined>;

/** Where `mailroom smtp` stores mail in S3 mode. */
export interface S3IngressSettings {
  bucket: string;
  /** @default 'smtp/' */
  prefix: string;
  /** An S3-compatible endpoint (addressed path-style); null for AWS's own. */
  endpoint: string | null;
  region: string;
}

/** `--s3-*` flags as parsed. */
export interface S3Flags {
  bucket?: string | undefined;
  prefix?: string | undefined;
  endpoint?: string | undefined;
}

/** A set, non-blank environment variable (ECS and shells often pass empty ones). */
function envValue(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

/**
 * S3 mode of `mailroom smtp`: `--s3-bucket` or `MAILROOM_RAW_BUCKET` turns it on; `--s3-prefix` /
 * `MAILROOM_RAW_PREFIX` (default `smtp/`), `--s3-endpoint` / `MAILROOM_S3_ENDPOINT`; the region from
 * `AWS_REGION` (then `AWS_DEFAULT_REGION`, default `us-east-1`). Flags win over the environment.
 * @returns null for the local mode (no bucket).
 * @throws CliError naming the flag or variable at fault.
 */
export function s3IngressSettings(flags: S3Flags, env: Env): S3IngressSettings | null {
  const pick = (flag: string | undefined, flagName: string, varName: string) =>
    flag !== undefined
      ? { value: flag, source: `--${flagName}` }
      : { value: envValue(env, varName), source: varName };
  const bucket = pick(flags.bucket, 's3-bucket', 'MAILROOM_RAW_BUCKET');
  if (bucket.value === undefined) {
    if (flags.prefix !== undefined)
      throw new UsageError('--s3-prefix needs --s3-bucket (or MAILROOM_RAW_BUCKET)');
    if (flags.endpoint !== undefined) {
      throw new UsageError('--s3-endpoint needs --s3-bucket (or MAILROOM_RAW_BUCKET)');
    }
    return null;
  }
  if (!isBucketName(bucket.value)) {
    throw new CliError(
      `${bucket.source}: '${bucket.value}' is not an S3 bucket name (3–63 lower-case letters, digits, dots and hyphens)`,
    );
  }
  const prefix = pick(flags.prefix, 's3-prefix', 'MAILROOM_RAW_PREFIX');
  const prefixValue = prefix.value ?? 'smtp/';
  if (
    prefixValue.startsWith('/') ||
    prefixValue.length > 512 ||
    /[\u0000-\u001f\u007f\\]/.test(prefixValue)
  ) {
    throw new CliError(
      `${prefix.source}: '${prefixValue}' is not a usable key prefix (no leading '/', no control characters or '\\')`,
    );
  }
  const endpoint = pick(flags.endpoint, 's3-endpoint', 'MAILROOM_S3_ENDPOINT');
  if (endpoint.value !== undefined) {
    let url: URL | null = null;
    try {
      url = new URL(endpoint.value);
    } catch {}
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new CliError(`${endpoint.source}: '${endpoint.value}' is not an http(s) URL`);
    }
  }
  return {
    bucket: bucket.value,
    prefix: prefixValue,
    endpoint: endpoint.value ?? null,
    region: envValue(env, 'AWS_REGION') ?? envValue(env, 'AWS_DEFAULT_REGION') ?? 'us-east-1',
  };
}

/** S3 bucket naming rules (general purpose buckets): 3–63 characters, no IP-address look-alikes. */
function isBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !name.includes('.-') &&
    !name.includes('-.') &&
    !isIP(name)
  );
}

/**
 * Refuses reply signing keys that would let anyone forge reply addresses in production: a development key
 * (the example's fallback when `MAILROOM_REPLY_KEY` is unset, or any `dev-only-…` key) or a short one.
 * @throws CliError (exit code 2) naming the key and the setting.
 */
export function refuseInsecureReplyKeys(config: Pick<MailroomConfig, 'replyAddress'>): void {
  try {
    assertProductionReplyKeys(config.replyAddress?.keys);
  } catch (err) {
    if (err instanceof InsecureReplyKeyError) throw new CliError(err.message, 2, { cause: err });
    throw err;
  }
}

/**
 * The production settings of `mailroom smtp` (local and S3 mode). First the reply keys must be fit for
 * production ({@link refuseInsecureReplyKeys}). Then the container's TLS and PROXY settings, from the
 * environment into `config.smtp` (they replace the config's): `MAILROOM_TLS_CERT` and `MAILROOM_TLS_KEY`
 * (PEM text, both or neither; ECS injects them from Secrets Manager) and `MAILROOM_PROXY_TRUSTED`
 * (comma-separated IPs and CIDR ranges of the load balancer); then the listener settings of
 * {@link applyListenerEnv}.
 * @throws CliError naming the variable or key at fault.
 */
export function applySmtpEnv(config: MailroomConfig, env: Env): void {
  refuseInsecureReplyKeys(config);
  applyListenerEnv(config, env);
  const cert = envValue(env, 'MAILROOM_TLS_CERT');
  const key = envValue(env, 'MAILROOM_TLS_KEY');
  if (cert !== undefined || key !== undefined) {
    if (cert === undefined) throw new CliError('MAILROOM_TLS_CERT must be set along with MAILROOM_TLS_KEY');
    if (key === undefined) throw new CliError('MAILROOM_TLS_KEY must be set along with MAILROOM_TLS_CERT');
    const certPem = pemText(cert, 'MAILROOM_TLS_CERT', 'CERTIFICATE');
    const keyPem = pemText(key, 'MAILROOM_TLS_KEY', 'PRIVATE KEY');
    try {
      createSecureContext({ cert: certPem, key: keyPem });
    } catch (err) {
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
      throw new CliError(
        `MAILROOM_TLS_CERT / MAILROOM_TLS_KEY: not a usable certificate and key pair (${reason})`,
      );
    }
    config.smtp.tls = { cert: certPem, key: keyPem };
  }
  const trusted = env.MAILROOM_PROXY_TRUSTED;
  if (trusted !== undefined && trusted.trim() !== '') {
    const entries = trusted
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const bad = entries.filter((e) => !isIpOrCidr(e));
    if (bad.length) {
      throw new CliError(
        `MAILROOM_PROXY_TRUSTED: not an IP address or CIDR range: ${bad.map((b) => `'${b}'`).join(', ')}`,
      );
    }
    config.smtp.proxyProtocol = {
      timeoutMs: config.smtp.proxyProtocol?.timeoutMs ?? 10_000,
      trustedProxies: entries,
    };
  }
}

/**
 * The listener settings a deployment sets from outside the config: `MAILROOM_SMTP_HOSTNAME` becomes
 * `smtp.hostname` (the name in the 220 greeting, EHLO and `Received:`; the public name a certificate
 * names) and `MAILROOM_SUBMISSION_PORT` `submission.port` (the container's port behind the load
 * balancer's 587; only with a `submission` listener in the config).
 * @throws CliError naming the variable at fault.
 */
export function applyListenerEnv(config: MailroomConfig, env: Env): void {
  const hostname = envValue(env, 'MAILROOM_SMTP_HOSTNAME')?.trim();
  if (hostname !== undefined) {
    if (!isHostName(hostname)) {
      throw new CliError(
        `MAILROOM_SMTP_HOSTNAME: '${hostname}' is not a host name (letters, digits, hyphens and dots, like mx.example.com)`,
      );
    }
    config.smtp.hostname = hostname.toLowerCase();
  }
  const submissionPort = envValue(env, 'MAILROOM_SUBMISSION_PORT')?.trim();
  if (submissionPort !== undefined) {
    if (!config.submission) {
      throw new CliError('MAILROOM_SUBMISSION_PORT is set but the config has no submission listener');
    }
    const port = Number(submissionPort);
    if (!/^\d+$/.test(submissionPort) || port < 1 || port > 65_535) {
      throw new CliError(`MAILROOM_SUBMISSION_PORT: '${submissionPort}' is not a port number (1–65535)`);
    }
    config.submission.port = port;
  }
}

/** A DNS host name (RFC 1123 labels, at most 253 characters); a trailing dot is not allowed. */
function isHostName(name: string): boolean {
  return (
    name.length <= 253 &&
    name.split('.').every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(label))
  );
}

/**
 * PEM text as given. Values stored on one line with literal `\n` (common in secret stores and .env files)
 * get their line breaks back.
 */
function pemText(value: string, name: string, label: string): string {
  const text = !value.includes('\n') && value.includes('\\n') ? value.replace(/\\n/g, '\n') : value;
  if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(text)) {
    throw new CliError(
      `${name} must hold PEM text (-----BEGIN …${label}-----), not a file name or other text`,
    );
  }
  return text;
}
