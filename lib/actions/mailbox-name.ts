const MAILBOX_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** Whether `name` is a valid mailbox name: 1–64 letters, digits, dot, underscore or dash (as in the config). */
export function isMailboxName(name: string): boolean {
  return MAILBOX_NAME.test(name);
}
