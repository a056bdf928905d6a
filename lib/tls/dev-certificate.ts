import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface TlsCredentials {
  /** PEM. */
  key: string;
  /** PEM (certificate chain). */
  cert: string;
}

/**
 * A self-signed certificate for local development, made once and kept in `<dir>/tls/`. Never used unless
 * dev mode asks for it: production takes a configured certificate (never smtp-server's built-in key).
 */
export async function devCertificate(dir: string, hostname: string): Promise<TlsCredentials> {
  const tlsDir = join(dir, 'tls');
  const keyPath = join(tlsDir, 'dev-key.pem');
  const certPath = join(tlsDir, 'dev-cert.pem');
  try {
    return { key: await readFile(keyPath, 'utf8'), cert: await readFile(certPath, 'utf8') };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const pems = await generate([{ name: 'commonName', value: hostname }], {
    keySize: 2048,
    notAfterDate: new Date(Date.now() + 365 * 86_400_000),
    algorithm: 'sha256',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: hostname },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  await mkdir(tlsDir, { recursive: true, mode: 0o700 });
  await writeFile(keyPath, pems.private, { mode: 0o600 });
  await writeFile(certPath, pems.cert, { mode: 0o644 });
  return { key: pems.private, cert: pems.cert };
}
