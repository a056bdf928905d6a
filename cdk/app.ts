// The CDK app cdk.json runs: `npx cdk synth -c ingress=ses|smtp -c domain=example.com [-c region=…]`.
// Context (cdk.json holds the defaults): ingress, domain (comma-separated for several), recipients,
// region, config (path of the Mailroom config bundled into the processor), hostedZoneId + hostedZoneName,
// tlsSecretArn (smtp), eventBus (true/false), retentionDays, stackName. cdk-nag's AWS Solutions checks run
// on every synth; their findings are errors.
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MailroomStack } from './mailroom-stack.ts';

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
const hostedZoneId = context('hostedZoneId');
const retentionDays = context('retentionDays');

new MailroomStack(app, context('stackName') ?? 'Mailroom', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: context('region') ?? 'us-east-1' },
  description: `Mailroom inbound email (${ingress} ingress)`,
  ingress: ingress as 'ses' | 'smtp',
  domains: list(context('domain')) ?? ['example.com'],
  recipients: list(context('recipients')),
  hostedZone: hostedZoneId
    ? { hostedZoneId, zoneName: context('hostedZoneName') ?? list(context('domain'))?.[0] ?? 'example.com' }
    : undefined,
  tlsSecretArn: context('tlsSecretArn'),
  pipeline: {
    configFile: context('config'),
    eventBus: context('eventBus') === 'true',
    retentionDays: retentionDays === undefined ? undefined : Number(retentionDays),
  },
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
