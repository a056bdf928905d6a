// This repository's CDK app (cdk.json runs it), written the way your own app would be: one MailroomStack
// with your config. In your project: `import { MailroomStack } from 'mailroom/cdk'` and
// `configFile: 'mailroom.config.ts'`; the processor bundles it with your handlers from your project (your
// lock file, your node_modules), and the SMTP image is built from it.
//
// `npx cdk synth -c ingress=ses|smtp -c domain=example.com [-c region=…]` works offline. Context (cdk.json
// holds the defaults): ingress, domain (comma-separated for several; default: the config's domains),
// recipients, region, config (default examples/mailroom.config.ts), hostedZoneId + hostedZoneName,
// tlsSecretArn (smtp), replyKeySecretArn (default: a new secret when the config signs reply addresses),
// eventBus (true/false), retentionDays, stackName, spamFilter / virusScan (true/false, smtp: the rspamd and
// ClamAV sidecars), hostname (smtp: the public name, default mx.<hostedZoneName>), alarmEmail (an SNS topic
// with this email subscription receives the alarms), maxConcurrency (processor invocations at once). cdk-nag's AWS Solutions checks run on every synth;
// their findings are errors.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MailroomStack } from './mailroom-stack.ts';

const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return value === undefined || value === null || value === '' ? undefined : String(value);
};
const list = (key: string) =>
  context(key)
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const hostedZoneId = context('hostedZoneId');
const retentionDays = context('retentionDays');
const maxConcurrency = context('maxConcurrency');
const ingress = (context('ingress') ?? 'ses') as 'ses' | 'smtp'; // MailroomStack refuses other values

new MailroomStack(app, context('stackName') ?? 'Mailroom', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: context('region') ?? 'us-east-1' },
  description: `Mailroom inbound email (${ingress} ingress)`,
  ingress,
  configFile: context('config') ?? 'examples/mailroom.config.ts',
  domains: list('domain'),
  recipients: list('recipients'),
  hostedZone: hostedZoneId
    ? { hostedZoneId, zoneName: context('hostedZoneName') ?? list('domain')?.[0] ?? 'example.com' }
    : undefined,
  tlsSecretArn: context('tlsSecretArn'),
  hostname: context('hostname'),
  alarmEmail: context('alarmEmail'),
  replyKeySecret: context('replyKeySecretArn'),
  spamFilter: context('spamFilter') === 'true',
  virusScan: context('virusScan') === 'true',
  pipeline: {
    eventBus: context('eventBus') === 'true',
    retentionDays: retentionDays === undefined ? undefined : Number(retentionDays),
    maxConcurrency: maxConcurrency === undefined ? undefined : Number(maxConcurrency),
  },
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
