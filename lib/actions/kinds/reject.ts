import * as z from 'zod';
import { defineActionKind } from '../action-kind.ts';

export interface RejectAction {
  kind: 'reject';
  /** SMTP reply code, e.g. 550. @default 550 */
  code: number;
  /** Enhanced status + text, e.g. '5.7.1 Not accepted here'. */
  text: string;
}

/**
 * Refuse the recipient at RCPT time.
 * @param code SMTP reply code. @default 550
 * @param text Enhanced status code and text. @default '5.7.1 Recipient rejected'
 */
export function reject(code = 550, text = '5.7.1 Recipient rejected'): RejectAction {
  return { kind: 'reject', code, text };
}

/** `reject()`: the router refuses the recipient at RCPT; a delivery that still reaches it is `rejected`. */
export const rejectKind = defineActionKind<RejectAction>({
  kind: 'reject',
  effectInStore: true,
  schema: z.object({
    kind: z.literal('reject'),
    code: z.number().int().min(400).max(599),
    text: z.string(),
  }),
  target: () => undefined,
  describe: (action) => ({ code: action.code, text: action.text }),
  run: async (action) => ({ status: 'rejected', detail: `${action.code} ${action.text}` }),
});
