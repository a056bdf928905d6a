// Your Mailroom on AWS: `npm run synth` shows the CloudFormation, `npm run deploy` deploys it (after a
// one-time `npx cdk bootstrap` of the account and region). Mail for your domains arrives through Amazon SES,
// is kept in an S3 bucket and processed by a Lambda function running mailroom.config.ts and your handlers.
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import { MailroomPipeline, SesIngress } from 'mailroom/cdk';
import config from '../mailroom.config.js';

const app = new App();
// SES receives email in a few regions only (us-east-1, us-west-2, eu-west-1, …): `-c region=eu-west-1`.
const region: string = app.node.tryGetContext('region') ?? 'us-east-1';
const stack = new Stack(app, 'Mailroom', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region },
  description: `Mailroom inbound email for ${config.domains.join(', ')}`,
});

// The bucket, queue, processor Lambda (bundling mailroom.config.ts with your handlers) and table.
const pipeline = new MailroomPipeline(stack, 'Pipeline', { configFile: 'mailroom.config.ts' });
// The SES receipt rule for your domains. Given a Route 53 hosted zone (`hostedZone`), it also verifies the
// domains and writes their DKIM and MX records; else copy the DKIM records from the SES console and point
// your domain's MX record at inbound-smtp.<region>.amazonaws.com (priority 10).
const inbound = new SesIngress(stack, 'Inbound', { pipeline, domains: config.domains });
new CfnOutput(stack, 'MxRecord', {
  value: `10 ${inbound.mxHost}`,
  description: 'MX record for your domains',
});
