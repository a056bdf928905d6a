import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { MailroomError } from '../kernel/index.ts';
import type { SecretsClient } from './secrets-manager-users.ts';

/** The processor's variable naming the Secrets Manager secret that holds the reply signing key. */
export const REPLY_KEY_SECRET_VARIABLE = 'MAILROOM_REPLY_KEY_SECRET_ARN';
/** The variable the example config (and yours, by the same convention) reads the reply signing key from. */
export const REPLY_KEY_VARIABLE = 'MAILROOM_REPLY_KEY';

/** The reply key secret could not be read, or does not hold a usable key. Never carries the value. */
export class ReplyKeySecretError extends MailroomError {
  override readonly name = 'ReplyKeySecretError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: false, cause: options.cause });
  }
}

/**
 * Puts the reply signing key from Secrets Manager into `env.MAILROOM_REPLY_KEY` when
 * `MAILROOM_REPLY_KEY_SECRET_ARN` names a secret; does nothing otherwise. Lambda cannot inject secrets into
 * the environment the way ECS does, and a config module reads the variable when it loads, so this runs
 * before the config is imported. The secret's string is the key itself (what the CDK app generates and
 * what ECS injects whole), not JSON.
 * @param client made only when a secret is named
 * @throws ReplyKeySecretError naming the variable and the secret, never the value.
 */
export async function loadReplyKeySecret(
  env: Record<string, string | undefined>,
  client: () => SecretsClient | Promise<SecretsClient>,
): Promise<void> {
  const secretId = env[REPLY_KEY_SECRET_VARIABLE]?.trim();
  if (!secretId) return;
  if (env[REPLY_KEY_VARIABLE]?.trim()) {
    throw new ReplyKeySecretError(
      `${REPLY_KEY_VARIABLE} and ${REPLY_KEY_SECRET_VARIABLE} are both set; keep only the secret`,
    );
  }
  let text: string | undefined;
  try {
    const out = await (await client()).send(new GetSecretValueCommand({ SecretId: secretId }));
    text = out.SecretString?.trim();
  } catch (cause) {
    throw new ReplyKeySecretError(
      `${REPLY_KEY_SECRET_VARIABLE}: cannot read ${secretId}: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (!text) throw new ReplyKeySecretError(`${REPLY_KEY_SECRET_VARIABLE}: ${secretId} has no SecretString`);
  if (text.startsWith('{')) {
    throw new ReplyKeySecretError(
      `${REPLY_KEY_SECRET_VARIABLE}: ${secretId} holds JSON; store the key itself as the secret string`,
    );
  }
  env[REPLY_KEY_VARIABLE] = text;
}
