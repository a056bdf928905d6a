import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { MailroomError } from '../kernel/index.ts';
import { isPasswordHash } from '../submission/index.ts';

/**
 * The secret could not be read (retryable: Secrets Manager may answer later), or does not hold
 * `{ "user": "scrypt$…" }` (not retryable: the secret must change).
 */
export class SubmissionUsersSecretError extends MailroomError {
  override readonly name = 'SubmissionUsersSecretError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { retryable: options?.cause !== undefined, cause: options?.cause });
  }
}

/** What this needs of a Secrets Manager client (a `SecretsManagerClient` fits). */
export type SecretsClient = Pick<SecretsManagerClient, 'send'>;

/**
 * Submission users from AWS Secrets Manager: the secret's string is JSON `{ "user": "scrypt$N$r$p$salt$hash" }`
 * (hashes from `mailroom hash-password`, never passwords). Every bad entry is named in one error, without
 * printing the value.
 */
export async function loadSubmissionUsers(
  client: SecretsClient,
  secretId: string,
): Promise<Record<string, string>> {
  let text: string | undefined;
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    text = out.SecretString;
  } catch (cause) {
    throw new SubmissionUsersSecretError(
      `submission.usersSecret: cannot read ${secretId}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  if (!text) throw new SubmissionUsersSecretError(`submission.usersSecret: ${secretId} has no SecretString`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SubmissionUsersSecretError(
      `submission.usersSecret: ${secretId} is not JSON ({ "user": "scrypt$…" })`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SubmissionUsersSecretError(`submission.usersSecret: ${secretId} must hold a JSON object`);
  }
  const bad = Object.entries(parsed)
    .filter(([, v]) => typeof v !== 'string' || !isPasswordHash(v))
    .map(([k]) => k);
  if (bad.length) {
    throw new SubmissionUsersSecretError(
      `submission.usersSecret: ${secretId}: not a scrypt hash for ${bad.map((u) => JSON.stringify(u)).join(', ')}`,
    );
  }
  return parsed as Record<string, string>;
}
