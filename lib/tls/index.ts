export { tlsCredentialsFor } from './credentials-for.ts';
export { devCertificate, type TlsCredentials } from './dev-certificate.ts';
export { TlsConfigError } from './errors.ts';
export { loadTlsCredentials } from './load-credentials.ts';
