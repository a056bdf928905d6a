export { LoginLimiter } from './login-limiter.ts';
export { hashPassword, isPasswordHash, verifyPassword } from './password-hash.ts';
