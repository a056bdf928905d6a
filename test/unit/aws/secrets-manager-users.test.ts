import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { loadSubmissionUsers, SubmissionUsersSecretError } from '../../../lib/aws/secrets-manager-users.ts';
import { hashPassword } from '../../../lib/submission/index.ts';

// Secrets Manager cannot run here: a stand-in client answers GetSecretValue the way the service does.
const clientReturning = (value: string | Error) => ({
  send: async (command: unknown) => {
    expect(command).toBeInstanceOf(GetSecretValueCommand);
    if (value instanceof Error) throw value;
    return { SecretString: value };
  },
});

describe('loadSubmissionUsers', () => {
  it('reads scrypt hashes from the secret', async () => {
    const hash = await hashPassword('s3cret');
    const users = await loadSubmissionUsers(
      clientReturning(JSON.stringify({ scanner: hash })) as never,
      'arn:x',
    );
    expect(users).toEqual({ scanner: hash });
  });

  it('names every entry that is not a hash, without printing values', async () => {
    const err = await loadSubmissionUsers(
      clientReturning(JSON.stringify({ a: 'plain-password', b: 42 })) as never,
      'arn:x',
    ).catch((e) => e);
    expect(err).toBeInstanceOf(SubmissionUsersSecretError);
    expect(err.message).toMatch(/"a", "b"/);
    expect(err.message).not.toContain('plain-password');
  });

  it('explains unreadable and malformed secrets', async () => {
    await expect(
      loadSubmissionUsers(clientReturning(new Error('AccessDenied')) as never, 's'),
    ).rejects.toThrow(/cannot read s: AccessDenied/);
    await expect(loadSubmissionUsers(clientReturning('not json') as never, 's')).rejects.toThrow(/not JSON/);
    await expect(loadSubmissionUsers(clientReturning('[]') as never, 's')).rejects.toThrow(/JSON object/);
  });
});
