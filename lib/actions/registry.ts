import type * as z from 'zod';
import type { ActionGrant, ActionKind } from './action-kind.ts';
import type { CloudPortName } from './cloud-port-contract.ts';
import { ACTION_KINDS, type Action } from './kinds/index.ts';

// Everything that depends on the kind of an action, derived from the list in kinds/index.ts.

const BY_KIND = new Map<string, ActionKind<Action>>(
  // Each kind's functions take its own actions; `kindOf` only hands them an action of that kind.
  ACTION_KINDS.map((kind) => [kind.kind, kind as unknown as ActionKind<Action>]),
);

/** The definition of `action`'s kind, or undefined for a kind that is not registered. */
export function kindOf(action: Action): ActionKind<Action> | undefined {
  return BY_KIND.get((action as { kind?: unknown }).kind as string);
}

/** Whether `action`'s effect is only a write to the message store, or nothing (see `ActionKind.effectInStore`). */
export function effectInStore(action: Action): boolean {
  return kindOf(action)?.effectInStore === true;
}

/** The kinds there are, in registry order (`mailbox`, `handler`, …). */
export function actionKindNames(): string[] {
  return ACTION_KINDS.map((kind) => kind.kind);
}

/** The config schemas of the kinds, for the discriminated union of an action (see lib/config). */
export function actionSchemas(): [z.ZodObject, ...z.ZodObject[]] {
  const [first, ...rest] = ACTION_KINDS.map((kind) => kind.schema);
  return [first!, ...rest];
}

/** Where a delivery goes, for display (`DeliveryRecord.target`); webhook URLs lose credentials and query. */
export function actionTarget(action: Action): string | undefined {
  return kindOf(action)?.target(action);
}

/** An action as data for `mailroom route` (handlers by name, webhook secrets never printed). */
export function describeAction(action: Action): Record<string, unknown> {
  return { kind: action.kind, ...kindOf(action)?.describe(action) };
}

type RoutesOf = { routes: ReadonlyArray<{ action: Action | Action[] }> };

function actionsOf(config: RoutesOf): Action[] {
  return config.routes.flatMap((route) => (Array.isArray(route.action) ? route.action : [route.action]));
}

/** The ports of `CloudActionPorts` the config's routes use (what the AWS processor loads clients for). */
export function cloudPortsUsed(config: RoutesOf): Set<CloudPortName> {
  const ports = new Set<CloudPortName>();
  for (const action of actionsOf(config)) {
    const port = kindOf(action)?.cloudPort;
    if (port) ports.add(port);
  }
  return ports;
}

/** What the processor must be granted for the config's routes, each need once. */
export function actionGrants(config: RoutesOf): ActionGrant[] {
  const grants = new Map<string, ActionGrant>();
  for (const action of actionsOf(config)) {
    for (const grant of kindOf(action)?.grants?.(action) ?? []) grants.set(JSON.stringify(grant), grant);
  }
  return [...grants.values()];
}
