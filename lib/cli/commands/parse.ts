import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { AuthVerdicts, DnsResolver } from '../../auth/index.ts';
import { authenticateMessage, createStaticResolver, createSystemResolver } from '../../auth/index.ts';
import { parseMessage } from '../../message/index.ts';
import { loadDnsZone } from '../dns-zone.ts';
import { CliError, UsageError } from '../errors.ts';
import type { ParseArgs } from './parse.usage.ts';

/** The authserv-id named in SPF comments when `parse --auth` checks a message (there is no config). */
const PARSE_AUTHSERV_ID = 'mailroom.local';

/**
 * `mailroom parse`: one ParsedMessage as JSON; with several files, NDJSON with a `file` field. With
 * `--auth`, each object also has `auth` (SPF from `--ip`/`--helo`/`--mail-from`, DKIM, DMARC, ARC),
 * every DNS question answered from the `--dns` zone file (else `MAILROOM_DNS_ZONE`) when given, else by
 * the system resolver.
 */
export async function parseCommand({ values, positionals }: ParseArgs): Promise<number> {
  if (!values.auth) {
    for (const flag of ['ip', 'helo', 'mail-from', 'dns'] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} needs --auth`);
    }
  }
  for (const file of positionals) {
    if (file === '-') continue;
    if (!existsSync(file)) throw new CliError(`no such file: ${file}`);
    if (statSync(file).isDirectory()) throw new CliError(`${file} is a directory, not a message file`);
  }
  let check: ((raw: Buffer) => Promise<AuthVerdicts>) | null = null;
  if (values.auth) {
    const zoneFile = values.dns ?? process.env.MAILROOM_DNS_ZONE;
    const resolver: DnsResolver = zoneFile
      ? createStaticResolver(await loadDnsZone(zoneFile))
      : createSystemResolver();
    check = (raw) =>
      authenticateMessage(raw, {
        ip: values.ip ?? '',
        helo: values.helo ?? '',
        mailFrom: values['mail-from'] ?? '',
        resolver,
        authservId: PARSE_AUTHSERV_ID,
      });
  }
  if (positionals.length === 1) {
    const raw = await readInput(positionals[0]!);
    const parsed = await parseMessage(raw);
    const out = check ? { ...parsed, auth: await check(raw) } : parsed;
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  for (const file of positionals) {
    const raw = await readInput(file);
    const parsed = await parseMessage(raw);
    const out = check ? { file, ...parsed, auth: await check(raw) } : { file, ...parsed };
    const ok = process.stdout.write(`${JSON.stringify(out)}\n`);
    if (!ok) await new Promise((r) => process.stdout.once('drain', r));
  }
  return 0;
}

async function readInput(file: string): Promise<Buffer> {
  if (file !== '-') return readFile(file);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
