import type { SmtpOptions } from '../config/index.ts';
import { devCertificate, type TlsCredentials } from './dev-certificate.ts';
import { loadTlsCredentials } from './load-credentials.ts';

/**
 * The certificate for STARTTLS from the `smtp.tls` option: a configured pair (loaded and checked),
 * a dev certificate kept in `<dataDir>/tls/` for `'self-signed'`, or null (no STARTTLS).
 * @param dev unset `tls` means `'self-signed'` (for `mailroom dev`). @default false
 * @throws TlsConfigError naming the field when the files cannot be read or do not pair up.
 */
export async function tlsCredentialsFor(
  tls: SmtpOptions['tls'],
  where: { dataDir: string; hostname: string; dev?: boolean },
): Promise<TlsCredentials | null> {
  const option = tls ?? (where.dev ? 'self-signed' : false);
  if (option === false) return null;
  if (option === 'self-signed') return devCertificate(where.dataDir, where.hostname);
  return loadTlsCredentials(option);
}
