export { tlsCredentialsFor } from './credentials-for.ts';
export { devCertificate, type TlsCredentials } from './dev-certificate.ts';
export { loadTlsCredentials, TlsConfigError } from './load-credentials.ts';
