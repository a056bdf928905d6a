import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createTransport } from 'nodemailer';
import { parseMessage } from '../../message/index.ts';
import { portOption } from '../args.ts';
import { CliError, UsageError } from '../errors.ts';
import type { SendArgs } from './send.usage.ts';

/** `mailroom send`: submit a message file over SMTP with an explicit envelope. */
export async function sendCommand({ values, positionals }: SendArgs): Promise<number> {
  const file = positionals[0]!;
  if (!values.to?.length) throw new UsageError('give at least one --to ADDR');
  const port = portOption(values.port, 'port') ?? 2525;
  if (!existsSync(file)) throw new CliError(`no such file: ${file}`);
  const raw = await readFile(file);
  const from = values.from ?? (await parseMessage(raw)).from?.address ?? '';
  const transport = createTransport({
    host: values.host ?? '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    connectionTimeout: 10_000,
  });
  try {
    const info = await transport.sendMail({ envelope: { from, to: values.to }, raw });
    process.stdout.write(
      `${JSON.stringify({ accepted: info.accepted, rejected: info.rejected, response: info.response })}\n`,
    );
    return info.rejected.length ? 1 : 0;
  } catch (err) {
    const e = err as { response?: string; message?: string; code?: string };
    throw new CliError(`send failed: ${e.response ?? e.message ?? String(err)}`, 1, { cause: err });
  } finally {
    transport.close();
  }
}
