import type * as z from 'zod';
import type { ActionOutcome, ActionRun } from './action-run.ts';
import type { CloudPortName } from './cloud-port-contract.ts';

/**
 * What the deployed processor must be allowed to reach for one action, as data: `cdk/config-grants.ts`
 * turns each into an IAM statement (lib/ never imports the CDK).
 */
export type ActionGrant =
  | { lambdaInvoke: { functionName: string; qualifier?: string } }
  | { eventBusPut: string };

/**
 * One kind of action, everything about it in one place. The registry (`kinds/index.ts`) lists the kinds;
 * the `Action` union, the config schema, `actionTarget`, `mailroom route`'s display, the AWS ports to load
 * and the CDK grants are derived from it.
 */
export interface ActionKind<A extends { kind: string }> {
  /** The `kind` of its actions (`mailbox`, `webhook`, …). */
  readonly kind: A['kind'];
  /** Validates one action object of a config: a zod object with `kind: z.literal(kind)`. */
  readonly schema: z.ZodObject;
  /** Where a delivery goes, for display (`DeliveryRecord.target`); undefined when it goes nowhere. */
  target(action: A): string | undefined;
  /** The action as `mailroom route` prints it, without `kind` (secrets and functions never printed). */
  describe(action: A): Record<string, unknown>;
  /**
   * Runs one attempt of one delivery. Resolves with the outcome; throws a `DeliveryError` (its
   * `retryable` saying whether another attempt can succeed).
   */
  run(action: A, run: ActionRun): Promise<ActionOutcome>;
  /** The port of `CloudActionPorts` it needs (the AWS processor loads a client for it only when used). */
  readonly cloudPort?: CloudPortName;
  /** What the processor must be granted to run this action on AWS. @default nothing */
  grants?(action: A): ActionGrant[];
  /**
   * Its effect is a write to the message store, or nothing (a mailbox entry, a drop): a re-run after the
   * store lost its latest writes redoes it without a duplicate, so its delivery record need not be synced
   * to disk before processing goes on. Actions with an effect outside (a webhook, a handler) leave it
   * unset: their `delivered` records are synced, so a re-run never repeats them. @default false
   */
  readonly effectInStore?: boolean;
}

/** Declares an action kind (the identity function, typed: a kind file reads as its own description). */
export function defineActionKind<A extends { kind: string }>(kind: ActionKind<A>): ActionKind<A> {
  return kind;
}
