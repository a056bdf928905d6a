import type { ActionOutcome, ActionRun } from './action-run.ts';
import { DeliveryError } from './errors.ts';
import type { Action } from './kinds/index.ts';
import { kindOf } from './registry.ts';

export type { ActionOutcome, ActionRun } from './action-run.ts';
export { actionTarget } from './registry.ts';

/**
 * Runs one attempt of one action for one delivery: the `run` of the action's kind (see `kinds/`).
 * @throws DeliveryError when the attempt failed; its `retryable` says whether another attempt can succeed.
 */
export async function runAction(action: Action, run: ActionRun): Promise<ActionOutcome> {
  const kind = kindOf(action);
  if (!kind) {
    const name = (action as { kind?: unknown }).kind;
    throw new DeliveryError(`unknown action kind: ${String(name)}`, { retryable: false });
  }
  return kind.run(action, run);
}
