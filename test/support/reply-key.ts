/**
 * A reply signing key `mailroom smtp` accepts (44 characters, as `openssl rand -base64 32` makes), for tests
 * that start the production ingress with the example config: without MAILROOM_REPLY_KEY it falls back to the
 * development key and refuses to start. Public, so only ever a test key.
 */
export const TEST_REPLY_KEY = 'dGVzdC1vbmx5LXJlcGx5LWtleS1mb3ItbWFpbHJvb20hIQ';
