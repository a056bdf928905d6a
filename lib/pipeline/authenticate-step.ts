import {
  type AuthVerdicts,
  authCachesFor,
  authenticateMessage,
  authSummary,
  uncheckedVerdicts,
} from '../auth/index.ts';
import type { Envelope } from '../kernel/index.ts';
import type { ProcessingPorts } from './ports.ts';
import type { RunTraces } from './run-traces.ts';
import type { RunWrites } from './run-writes.ts';

/**
 * The message's verdicts: those stored by an earlier run or given by the ingress (a replay or a resumed
 * message is judged as it was on arrival, not against today's DNS), else computed now from the SMTP
 * transaction and the raw bytes, then stored and traced. Never from the message's headers. Mail without a
 * client address (the dev HTTP API) gets `none` verdicts saying why. Scan-only verdicts (the ingress ran
 * rspamd or ClamAV but left authentication to us) are kept beside the computed ones. The verdicts are
 * saved as one of the run's `writes` (they need not hold it up).
 */
export async function authenticateStep(
  ports: ProcessingPorts,
  id: string,
  input: { raw: Buffer; envelope: Envelope; auth: AuthVerdicts | null },
  traces: RunTraces,
  writes: RunWrites,
): Promise<AuthVerdicts> {
  const { raw, envelope, auth: given } = input;
  if (given && !given.scanOnly) {
    await traces.add('authenticated', `${authSummary(given)} (verdicts from the first processing)`);
    return given;
  }
  const { auth: options } = ports.config;
  const ip = envelope.remoteAddress?.trim() ?? '';
  const cache = authCachesFor(options.resolver, options.cacheSeconds);
  const computed = ip
    ? await authenticateMessage(raw, {
        ip,
        helo: envelope.helo ?? '',
        mailFrom: envelope.mailFrom,
        resolver: options.resolver,
        authservId: options.authservId,
        now: ports.now(),
        ...(cache ? { cache } : {}),
      })
    : uncheckedVerdicts('not received over SMTP: no client address to check');
  const auth = given ? { ...computed, spam: given.spam, virus: given.virus } : computed;
  await writes.add(() => ports.store.saveAuth(id, auth));
  const summary = authSummary(auth);
  await traces.add('authenticated', ip ? summary : `${summary} (not received over SMTP)`);
  return auth;
}
