import { readFile } from 'node:fs/promises';
import type { StaticZone } from '../auth/index.ts';
import { staticZoneSchema } from '../config/index.ts';
import { CliError } from './errors.ts';

/**
 * Reads a DNS zone file for a static resolver: JSON, name → records, as `auth.dns` in the config
 * (`{"example.com": {"TXT": ["v=spf1 ip4:192.0.2.0/24 -all"]}, "_dmarc.example.com": {"TXT": ["v=DMARC1; p=reject"]}}`).
 * @throws CliError when the file is missing, not JSON, or not a zone.
 */
export async function loadDnsZone(file: string): Promise<StaticZone> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new CliError(`no such DNS zone file: ${file}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file}: not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const result = staticZoneSchema.safeParse(data);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.map(String).join('.') || '(zone)';
    throw new CliError(`${file}: not a DNS zone: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data as StaticZone;
}
