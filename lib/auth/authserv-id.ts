import { AuthConfigError } from './errors.ts';

const AUTHSERV_ID = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252})$/;

/**
 * Checks an authserv-id (RFC 8601 §2.5): our host name, e.g. `mx.example.com`, usable as an RFC 2045
 * token. Returns it in lower case without a trailing dot.
 * @throws AuthConfigError when it is empty or has other characters.
 */
export function normalizeAuthservId(authservId: string): string {
  const id = authservId.trim().replace(/\.$/, '');
  if (!AUTHSERV_ID.test(id)) {
    throw new AuthConfigError(
      `authserv-id must be a host name (letters, digits, '.', '-', '_'): ${JSON.stringify(authservId)}`,
    );
  }
  return id.toLowerCase();
}
