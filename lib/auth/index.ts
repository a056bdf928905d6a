export { AuthWorkerPool, type AuthWorkerPoolOptions, type PoolOutcome } from './auth-worker-pool.ts';
export { type AuthenticateInput, authenticateMessage, preloadAuthentication } from './authenticate.ts';
export { authenticationResultsHeader } from './authentication-results.ts';
export { normalizeAuthservId } from './authserv-id.ts';
export {
  createDataTimeCheck,
  type DataTimeCheck,
  type DataTimeCheckOptions,
  type DataTimeDecision,
} from './data-time-check.ts';
export { type DataTimeInspection, type DataTimeRequest, inspectAtDataTime } from './data-time-inspect.ts';
export { dmarcRejects } from './dmarc-policy.ts';
export {
  type DnsAnswer,
  DnsError,
  type DnsErrorCode,
  type DnsResolver,
  type MxAnswer,
} from './dns-resolver.ts';
export { AuthConfigError } from './errors.ts';
export {
  findForgedAuthResults,
  type HeaderFieldSpan,
  isSenderVerdictHeader,
  SENDER_VERDICT_HEADERS,
  stripForgedAuthResults,
  withoutSpans,
} from './forged-headers.ts';
export {
  checkHeaderLimits,
  DEFAULT_HEADER_LIMITS,
  type HeaderLimitProblem,
  type HeaderLimits,
} from './header-limits.ts';
export { RESOLVER_RECIPE, type ResolverRecipe, recipeOf } from './resolver-recipe.ts';
export { mapSesVerdicts, type SesMail, type SesReceipt, type SesVerdict } from './ses-verdicts.ts';
export { createStaticResolver, type StaticRecords, type StaticZone } from './static-resolver.ts';
export { createSystemResolver, type SystemResolverOptions } from './system-resolver.ts';
export {
  type AuthCaches,
  authCachesFor,
  createAuthCaches,
  VERDICT_CACHE_ENTRIES,
  VerdictCache,
  type VerdictCacheOptions,
} from './verdict-cache.ts';
export {
  type ArcVerdict,
  AUTH_RESULTS,
  type AuthResult,
  type AuthVerdicts,
  authSummary,
  type ContentVerdict,
  type DkimVerdict,
  type DmarcVerdict,
  isDmarcAligned,
  type SpfVerdict,
  scanOnlyVerdicts,
  toAuthResult,
  uncheckedVerdicts,
  type VerdictSource,
} from './verdicts.ts';
