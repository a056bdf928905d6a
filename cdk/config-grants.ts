import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import type { ConfigSummary } from './config-summary.ts';

/**
 * The ARN `lambda:InvokeFunction` is checked against when the processor invokes `functionName` (a name, an
 * ARN or a partial ARN `123456789012:function:name`, with or without `:qualifier`) with `qualifier`: the
 * qualified ARN when a version or alias is named (an unqualified grant does not cover it), else the
 * function's. Parts the name leaves out are the stack's (partition, region, account).
 */
export function lambdaTargetArn(scope: IConstruct, functionName: string, qualifier?: string): string {
  const stack = Stack.of(scope);
  const parts = functionName.split(':');
  let partition: string | undefined;
  let region: string | undefined;
  let account: string | undefined;
  let name: string;
  let inlineQualifier: string | undefined;
  if (parts[0] === 'arn') {
    // arn:partition:lambda:region:account:function:name[:qualifier]
    [, partition, , region, account, , name = '', inlineQualifier] = parts;
  } else {
    const at = parts.indexOf('function');
    if (at >= 0) {
      // [region:]account:function:name[:qualifier]
      const before = parts.slice(0, at);
      account = before.at(-1);
      region = before.length > 1 ? before[0] : undefined;
      name = parts[at + 1] ?? '';
      inlineQualifier = parts[at + 2];
    } else {
      [name = '', inlineQualifier] = parts;
    }
  }
  const version = qualifier ?? inlineQualifier;
  return stack.formatArn({
    partition,
    service: 'lambda',
    region,
    account,
    resource: 'function',
    resourceName: version ? `${name}:${version}` : name,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** The ARN of an EventBridge bus given by name (in the stack's account and region) or by ARN. */
export function eventBusArn(scope: IConstruct, bus: string): string {
  if (bus.startsWith('arn:')) return bus;
  return Stack.of(scope).formatArn({
    service: 'events',
    resource: 'event-bus',
    resourceName: bus,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/**
 * Lets `grantee` reach exactly the targets the config's routes name: `lambda:InvokeFunction` on each
 * `lambda()` function, `events:PutEvents` on each `eventBridge()` bus. Nothing when the config has none.
 */
export function grantConfigTargets(grantee: iam.IGrantable, summary: ConfigSummary, scope: IConstruct): void {
  const functions = [
    ...new Set(summary.lambdaTargets.map((t) => lambdaTargetArn(scope, t.functionName, t.qualifier))),
  ];
  if (functions.length) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: functions }),
    );
  }
  const buses = [...new Set(summary.eventBuses.map((bus) => eventBusArn(scope, bus)))];
  if (buses.length) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: buses }),
    );
  }
}
