import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { TlsCredentials } from './dev-certificate.ts';
import { TlsConfigError } from './errors.ts';

/** PEM text as given, or the contents of the file it names. */
async function pemOrFile(value: string, what: string): Promise<string> {
  if (value.includes('-----BEGIN ')) return value;
  try {
    return await readFile(value, 'utf8');
  } catch (cause) {
    throw new TlsConfigError(`smtp.tls.${what}: cannot read ${value}`, { cause });
  }
}

/** Loads a configured certificate and key (PEM text or file paths) and checks that they pair up. */
export async function loadTlsCredentials(options: { cert: string; key: string }): Promise<TlsCredentials> {
  const creds = { cert: await pemOrFile(options.cert, 'cert'), key: await pemOrFile(options.key, 'key') };
  try {
    createSecureContext(creds);
  } catch (cause) {
    throw new TlsConfigError(
      `smtp.tls: certificate and key are not a usable pair (${(cause as Error).message})`,
      {
        cause,
      },
    );
  }
  return creds;
}
