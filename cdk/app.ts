// The CDK app cdk.json runs: `npx cdk synth -c ingress=ses|smtp -c domain=example.com [-c region=…]`.
// Context (cdk.json holds the defaults): ingress, domain (comma-separated for several), recipients,
// region, config (path of the Mailroom config bundled into the processor), hostedZoneId + hostedZoneName,
// tlsSecretArn (smtp), replyKeySecretArn, eventBus (true/false), retentionDays, stackName. cdk-nag's AWS
// Solutions checks run on every synth; their findings are errors.
// A config with `replyAddress` gets its signing key from Secrets Manager: the secret named by
// replyKeySecretArn, else a new one with a generated key (never the example's public development key).
import { resolve } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig } from '../lib/config/load-config.ts';
import { MailroomStack } from './mailroom-stack.ts';
import { PROJECT_ROOT } from './project-root.ts';
import { sesRecipientsFor } from './ses-recipients.ts';

const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return value === undefined || value === null || value === '' ? undefined : String(value);
};
const list = (value: string | undefined) =>
  value
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const ingress = context('ingress') ?? 'ses';
const configFile = resolve(context('config') ?? resolve(PROJECT_ROOT, 'examples', 'mailroom.config.ts'));
// The config the processor bundles also decides what the SES rule accepts (unless -c recipients says).
const config = await loadConfig(configFile);
const domains = list(context('domain')) ?? config.domains;
const recipients =
  list(context('recipients')) ??
  sesRecipientsFor({ domains, routes: config.routes }).filter((r) => domains.includes(r.split('@').pop()!));
const hostedZoneId = context('hostedZoneId');
const retentionDays = context('retentionDays');

new MailroomStack(app, context('stackName') ?? 'Mailroom', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: context('region') ?? 'us-east-1' },
  description: `Mailroom inbound email (${ingress} ingress)`,
  ingress: ingress as 'ses' | 'smtp',
  domains,
  recipients: recipients.length ? recipients : undefined,
  hostedZone: hostedZoneId
    ? { hostedZoneId, zoneName: context('hostedZoneName') ?? list(context('domain'))?.[0] ?? 'example.com' }
    : undefined,
  tlsSecretArn: context('tlsSecretArn'),
  replyKeySecret: context('replyKeySecretArn') ?? (config.replyAddress ? true : undefined),
  pipeline: {
    configFile,
    eventBus: context('eventBus') === 'true',
    retentionDays: retentionDays === undefined ? undefined : Number(retentionDays),
  },
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
