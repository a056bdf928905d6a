import * as z from 'zod';
import { defineActionKind } from '../action-kind.ts';

export interface DropAction {
  kind: 'drop';
}

/** Accept and discard (recorded as `dropped`). */
export function drop(): DropAction {
  return { kind: 'drop' };
}

/** `drop()`: nothing happens; the delivery is `dropped`. */
export const dropKind = defineActionKind<DropAction>({
  kind: 'drop',
  effectInStore: true,
  schema: z.object({ kind: z.literal('drop') }),
  target: () => undefined,
  describe: () => ({}),
  run: async () => ({ status: 'dropped', detail: 'dropped' }),
});
