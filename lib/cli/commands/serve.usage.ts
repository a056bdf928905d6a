import { defineCommand, type OptionSpec, type OptionValues } from '../command.ts';

const config = {
  type: 'string',
  value: 'F',
  help: 'the config file (default: $MAILROOM_CONFIG, else ./mailroom.config.ts)',
} as const satisfies OptionSpec;
const dns = {
  type: 'string',
  value: 'zone.json',
  help: 'answer every DNS question of message authentication from this zone file (or $MAILROOM_DNS_ZONE)',
} as const satisfies OptionSpec;
const data = {
  type: 'string',
  value: 'DIR',
  help: "where mail and records are kept (default: the config's dataDir, .mailroom)",
} as const satisfies OptionSpec;

const devOptions = {
  config,
  'smtp-port': {
    type: 'string',
    value: 'P',
    help: "the SMTP port (default: the config's smtp.port, 2525; 0 picks a free port)",
  },
  'http-port': {
    type: 'string',
    value: 'P',
    help: "the port of the web page and the API (default: the config's http.port, 8025)",
  },
  data,
  dns,
  host: {
    type: 'string',
    value: 'H',
    help: "the SMTP server's address (default: $MAILROOM_SMTP_HOST, else the config's smtp.host)",
    hidden: true,
  },
  port: { type: 'string', value: 'P', help: 'the same as --smtp-port', hidden: true },
} as const satisfies Record<string, OptionSpec>;

const smtpOptions = {
  config,
  host: {
    type: 'string',
    value: 'H',
    help: "the address to listen on (default: $MAILROOM_SMTP_HOST, else the config's smtp.host)",
  },
  port: {
    type: 'string',
    value: 'P',
    help: "the SMTP port (default: $MAILROOM_SMTP_PORT, else the config's smtp.port, 2525)",
  },
  'smtp-port': { type: 'string', value: 'P', help: 'the same as --port', hidden: true },
  data,
  dns,
  's3-bucket': {
    type: 'string',
    value: 'B',
    help: 'store mail in this S3 bucket, processing elsewhere (or $MAILROOM_RAW_BUCKET)',
  },
  's3-prefix': {
    type: 'string',
    value: 'P',
    help: 'the key prefix in the bucket (or $MAILROOM_RAW_PREFIX; default smtp/)',
  },
  's3-endpoint': {
    type: 'string',
    value: 'URL',
    help: 'an S3-compatible endpoint instead of AWS (or $MAILROOM_S3_ENDPOINT)',
  },
} as const satisfies Record<string, OptionSpec>;

/** What `mailroom dev` and `mailroom smtp` run with (each takes only its own options). */
export interface ServeArgs {
  values: OptionValues<typeof devOptions> & OptionValues<typeof smtpOptions>;
  positionals: string[];
}

export const dev = defineCommand({
  name: 'dev',
  usage:
    'mailroom dev [--config F] [--smtp-port 2525] [--http-port 8025] [--data .mailroom] [--dns zone.json]',
  summary: 'SMTP server, processing, HTTP API and web page on this machine',
  description:
    'Runs Mailroom on this machine for development: the SMTP server (STARTTLS with a self-signed ' +
    'certificate unless the config says otherwise), storage and processing, and the HTTP API and web page ' +
    'that show every message, its routing and its deliveries. Stops on Ctrl-C (SIGINT) or SIGTERM after ' +
    'finishing open sessions.',
  options: devOptions,
  positionals: { what: 'no arguments', min: 0, max: 0 },
  run: async (args) => (await import('./serve.ts')).serveCommand(args, 'dev'),
});

export const smtp = defineCommand({
  name: 'smtp',
  usage:
    'mailroom smtp [--config F] [--host 127.0.0.1] [--port 2525] [--data .mailroom] [--dns zone.json] ' +
    '[--s3-bucket B [--s3-prefix smtp/] [--s3-endpoint URL]]',
  summary: 'the production SMTP ingress (what the container runs)',
  description:
    'The production SMTP ingress. Without a bucket it stores and processes mail on this machine; with ' +
    '--s3-bucket (or $MAILROOM_RAW_BUCKET) it stores each message in S3 before answering 250 and leaves ' +
    'processing to Lambda. $MAILROOM_TLS_CERT and $MAILROOM_TLS_KEY (PEM) turn on STARTTLS, ' +
    '$MAILROOM_PROXY_TRUSTED (IPs or CIDRs) the PROXY protocol. Stops on SIGTERM after finishing open sessions.',
  options: smtpOptions,
  positionals: { what: 'no arguments', min: 0, max: 0 },
  run: async (args) => (await import('./serve.ts')).serveCommand(args, 'smtp'),
});
