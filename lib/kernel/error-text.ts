/** One line for logs, traces and delivery records: an error's message (or name), or the thrown value. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
