import { fileURLToPath } from 'node:url';
import { App, Stack, type StackProps } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';

/** A stack in an app that skips asset bundling (no esbuild run): fast, for template assertions. */
export function testStack(props: StackProps = {}): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' }, ...props });
}

/** The single resource of `type` in the template (fails when there is not exactly one). */
export function onlyResource(template: Template, type: string): { Properties: Record<string, unknown> } {
  const found = Object.values(template.findResources(type));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0] as { Properties: Record<string, unknown> };
}

/** Catches what `fn` throws. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

/** The example config (examples/mailroom.config.ts): what this repository's app deploys. */
export const EXAMPLE_CONFIG = fileURLToPath(new URL('../../examples/mailroom.config.ts', import.meta.url));
