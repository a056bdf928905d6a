import { writeFile } from 'node:fs/promises';
import { UsageError } from '../errors.ts';
import type { MessageArgs } from './message.usage.ts';
import { readApiUrl } from './read-api-target.ts';

/** `mailroom message ID`: one message's detail, raw bytes or attachment from the deployed read API. */
export async function messageCommand({ values, positionals }: MessageArgs): Promise<number> {
  const id = positionals[0] ?? '';
  if (!/^[A-Za-z0-9._~-]{1,200}$/.test(id)) throw new UsageError(`not a message id: '${id}'`);
  if (values.raw && values.attachment !== undefined)
    throw new UsageError('give --raw or --attachment N, not both');
  if (values.attachment !== undefined && !/^\d{1,4}$/.test(values.attachment)) {
    throw new UsageError(`--attachment must be an attachment index (0, 1, …), got '${values.attachment}'`);
  }
  const url = await readApiUrl(values);
  const { createReadApiClient } = await import('../../aws/read-api/read-api-client.ts');
  const client = createReadApiClient({ url, ...(values.region ? { region: values.region } : {}) });
  const path = `/api/messages/${encodeURIComponent(id)}`;
  const bytes = values.raw
    ? await client.bytes(`${path}/raw`)
    : values.attachment !== undefined
      ? await client.bytes(`${path}/attachments/${values.attachment}`)
      : Buffer.from(`${JSON.stringify(await client.json(path), null, 2)}\n`);
  if (values.out !== undefined) {
    await writeFile(values.out, bytes);
    process.stderr.write(`wrote ${bytes.length} bytes to ${values.out}\n`);
  } else {
    process.stdout.write(bytes);
  }
  return 0;
}
