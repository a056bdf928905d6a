import { errorText, isRetryable } from '../kernel/index.ts';
import type { ActionRun } from './action-run.ts';
import { DeliveryError } from './errors.ts';

/** A mailbox name: 1–64 letters, digits, dot, underscore or dash. */
export const MAILBOX_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** Whether `name` is a valid mailbox name: 1–64 letters, digits, dot, underscore or dash (as in the config). */
export function isMailboxName(name: string): boolean {
  return MAILBOX_NAME.test(name);
}

/**
 * Puts the run's message into `mailbox` (`mailbox()` actions and a handler's `ctx.mailboxes.put`).
 * @returns whether the entry is new (false: the mailbox already held the message).
 * @throws DeliveryError: not retryable for a bad name; as the store's error says otherwise.
 */
export async function putMailboxEntry(
  run: ActionRun,
  mailbox: string,
  data: Record<string, unknown> | null,
  now: () => Date,
): Promise<boolean> {
  if (!isMailboxName(mailbox)) {
    throw new DeliveryError(
      `invalid mailbox name ${JSON.stringify(mailbox)}: use 1–64 letters, digits, . _ -`,
      { retryable: false },
    );
  }
  try {
    return await run.store.putMailboxEntry({
      mailbox,
      messageId: run.messageId,
      data,
      createdAt: now().toISOString(),
    });
  } catch (cause) {
    throw new DeliveryError(`mailbox ${mailbox}: ${errorText(cause)}`, {
      cause,
      retryable: isRetryable(cause),
    });
  }
}
