import { join } from 'node:path';
import { CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import { acknowledge } from './nag.ts';
import { CDK_DIR } from './package-files.ts';

export interface ReceiptRuleSetActivationProps {
  /** The rule set to make the account's active one in the stack's region. */
  readonly ruleSet: ses.IReceiptRuleSet;
}

/**
 * Makes an SES receipt rule set the active one (an account has one active rule set per region) when the
 * stack is deployed, and on removal deactivates it only if it is still the active one.
 *
 * A small custom resource handler (`cdk/handlers/activate-receipt-rule-set/index.mjs`) rather than
 * `AwsCustomResource`: its delete needs a read-then-write (DescribeActiveReceiptRuleSet, then
 * SetActiveReceiptRuleSet) that a single SDK call cannot express.
 */
export class ReceiptRuleSetActivation extends Construct {
  /** The custom resource; depend on it to run after activation. */
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: ReceiptRuleSetActivationProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Mailroom: activates its SES receipt rule set',
    });
    logGroup.grantWrite(role);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ses:SetActiveReceiptRuleSet', 'ses:DescribeActiveReceiptRuleSet'],
        // Neither action supports resource-level permissions.
        resources: ['*'],
        conditions: { StringEquals: { 'aws:RequestedRegion': Stack.of(this).region } },
      }),
    );
    const handler = new lambda.Function(this, 'Handler', {
      code: lambda.Code.fromAsset(join(CDK_DIR, 'handlers', 'activate-receipt-rule-set')),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: Duration.seconds(30),
      role,
      logGroup,
      description: 'Mailroom: activates its SES receipt rule set (CloudFormation custom resource)',
    });

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: handler.functionArn,
      resourceType: 'Custom::MailroomReceiptRuleSetActivation',
      properties: { RuleSetName: props.ruleSet.receiptRuleSetName },
    });

    acknowledge(role, {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ses:SetActiveReceiptRuleSet and ses:DescribeActiveReceiptRuleSet support no resource-level permissions; the statement is limited to the stack region.',
    });
    acknowledge(handler, {
      id: 'AwsSolutions-L1',
      reason:
        'nodejs22.x like the rest of Mailroom (see the processor); the handler only uses the runtime SDK and fetch.',
    });
  }
}
