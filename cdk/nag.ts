import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledgements of cdk-nag (AwsSolutions) findings, written with CDK's own `Validations` API so the
 * constructs do not depend on cdk-nag: users who run `AwsSolutionsChecks` see Mailroom's deliberate
 * choices acknowledged with their reasons, everything else reported.
 */
export interface NagAcknowledgment {
  /** Rule id, e.g. `AwsSolutions-S1`, or one finding of it, e.g. `AwsSolutions-IAM5[Resource::*]`. */
  readonly id: string;
  /** Why the finding is acceptable here. */
  readonly reason: string;
}

export function acknowledge(scope: IConstruct, ...acknowledgments: NagAcknowledgment[]): void {
  Validations.of(scope).acknowledge(...acknowledgments);
}

/**
 * The AwsSolutions-IAM5 finding id for a wildcard resource, as cdk-nag spells it: the resolved value with
 * `{Ref}` as `<Id>`, `{Fn::GetAtt}` as `<Id.Attr>` and `Fn::Join` concatenated.
 */
export function wildcardResource(scope: IConstruct, arn: string): string {
  return `AwsSolutions-IAM5[Resource::${flatten(Stack.of(scope).resolve(arn))}]`;
}

/** The AwsSolutions-IAM5 finding id for a wildcard action. */
export function wildcardAction(action: string): string {
  return `AwsSolutions-IAM5[Action::${action}]`;
}

function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
  if (typeof node === 'object' && node !== null) {
    const o = node as Record<string, unknown>;
    if (Array.isArray(o['Fn::Join'])) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if ('Fn::Sub' in o) return flatten(o['Fn::Sub']);
    if (Array.isArray(o['Fn::GetAtt'])) {
      const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if ('Fn::ImportValue' in o) return flatten(o['Fn::ImportValue']);
    if ('Ref' in o) return `<${flatten(o.Ref)}>`;
  }
  return JSON.stringify(node);
}
