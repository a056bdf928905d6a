import type { MessageSummary } from '../../store/index.ts';
import { UsageError } from '../errors.ts';
import type { MessagesArgs } from './messages.usage.ts';
import { readApiUrl } from './read-api-target.ts';

function limitOption(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new UsageError(`--limit must be a whole number above 0, got '${value}'`);
  }
  return value;
}

/** One line per message: received, id, status, from, subject (cut to fit a terminal). */
export function messageTable(messages: MessageSummary[]): string {
  const rows = messages.map((m) => [
    m.receivedAt.slice(0, 19).replace('T', ' '),
    m.id,
    m.status,
    (m.from?.address ?? m.envelope.mailFrom) || '<>',
    (m.subject ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 60),
  ]);
  const header = ['RECEIVED (UTC)', 'ID', 'STATUS', 'FROM', 'SUBJECT'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** `mailroom messages`: a page of the deployed read API's listing. */
export async function messagesCommand({ values }: MessagesArgs): Promise<number> {
  const limit = limitOption(values.limit);
  const url = await readApiUrl(values);
  const { createReadApiClient } = await import('../../aws/read-api/read-api-client.ts');
  const client = createReadApiClient({ url, ...(values.region ? { region: values.region } : {}) });
  const page = await client.json<{ messages: MessageSummary[]; nextCursor: string | null }>('/api/messages', {
    mailbox: values.mailbox,
    limit,
    before: values.before,
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(page.messages.length ? `${messageTable(page.messages)}\n` : 'no messages\n');
  if (page.nextCursor) process.stdout.write(`more: --before ${page.nextCursor}\n`);
  return 0;
}
