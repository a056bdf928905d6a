import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createTransport } from 'nodemailer';
import { parseMessage } from '../../message/index.ts';
import { parseCommandArgs, portOption } from '../args.ts';
import { CliError } from '../errors.ts';

const usage =
  'mailroom send <file.eml> --to ADDR [--to ADDR…] [--from ADDR] [--host 127.0.0.1] [--port 2525]';

/** `mailroom send`: submit a message file over SMTP with an explicit envelope. */
export async function sendCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      to: { type: 'string', multiple: true },
      from: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '2525' },
    },
    usage,
  );
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new CliError(`give exactly one message file\nusage: ${usage}`);
  if (!values.to?.length) throw new CliError(`give at least one --to ADDR\nusage: ${usage}`);
  if (!existsSync(file)) throw new CliError(`no such file: ${file}`);
  const raw = await readFile(file);
  const from = values.from ?? (await parseMessage(raw)).from?.address ?? '';
  const transport = createTransport({
    host: values.host,
    port: portOption(values.port, 'port'),
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
