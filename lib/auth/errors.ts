/** A value given to lib/auth by our own configuration is unusable (e.g. an authserv-id that is no host name). */
export class AuthConfigError extends Error {
  override readonly name = 'AuthConfigError';
}
