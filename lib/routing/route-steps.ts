import { type NormalizedAddress, normalizeAddress } from './address.ts';
import type { CompiledRoute, CompiledRouterOptions } from './compile-routes.ts';
import { type ReplyTokenFailure, verifyReplyToken } from './reply-address.ts';
import type { VerifiedReplyToken } from './types.ts';

// The steps a router takes for one recipient, shared by its decision (router.ts) and its explanation
// (explain.ts): resolve the address, match a route's patterns, take the route (verifying a reply token).

export type Refusal = { code: number; message: string };

/** A compiled router: its routes and domains, and how reply tokens are verified. */
export interface RouterState extends CompiledRouterOptions {
  firstDomain: string | undefined;
  allowNoExpiry: boolean;
}

export const FAILURE_TEXT: Record<ReplyTokenFailure, string> = {
  malformed: 'reply address token is malformed',
  'bad-signature': 'reply address signature does not match',
  expired: 'reply address has expired',
  'unknown-key': 'reply address is signed with an unknown key',
};

/** Parses a recipient, or returns why it is refused before any route is looked at. */
export function resolve(
  state: RouterState,
  recipient: string,
): { address: NormalizedAddress } | { refusal: Refusal; shown: string } {
  const raw = typeof recipient === 'string' ? recipient.trim() : '';
  // RFC 5321 §4.1.1.3: a bare `Postmaster` (no domain) must be accepted.
  const bare = raw.replace(/^<(.*)>$/s, '$1').trim();
  const address =
    bare.toLowerCase() === 'postmaster' && state.firstDomain
      ? normalizeAddress(`${bare}@${state.firstDomain}`)
      : normalizeAddress(raw);
  if (!address) {
    return { refusal: { code: 553, message: `5.1.3 <${bare}>: bad recipient address syntax` }, shown: bare };
  }
  if (!state.domains.has(address.domain)) {
    return {
      refusal: {
        code: 550,
        message: `5.7.1 Relaying denied: ${address.domain} is not a domain we receive for`,
      },
      shown: address.address,
    };
  }
  return { address };
}

export function matchPatterns(
  route: CompiledRoute,
  address: NormalizedAddress,
): Record<string, string> | null {
  for (const p of route.patterns) {
    const params = p.match(address);
    if (params) return params;
  }
  return null;
}

export const noSuchUser = (address: string): Refusal => ({
  code: 550,
  message: `5.1.1 <${address}>: no such user here`,
});
export const isPostmaster = (a: NormalizedAddress) => a.local.toLowerCase() === 'postmaster';

/**
 * What taking `route` means for this recipient once its reply token (if any) is verified: the route
 * itself (with the payload), its fallback (with `replyTokenError`), or a 5.7.1 refusal.
 */
export function take(
  state: RouterState,
  route: CompiledRoute,
  params: Record<string, string>,
  address: string,
  at: Date,
):
  | { route: CompiledRoute; params: Record<string, string>; replyToken?: VerifiedReplyToken }
  | { refusal: Refusal; params: Record<string, string> } {
  const option = route.replyToken;
  if (!option) return { route, params };
  const token = params[option.param];
  const verdict =
    token === undefined || token === ''
      ? { ok: false as const, reason: 'malformed' as const }
      : verifyReplyToken(token, { keys: state.replyKeys ?? {}, now: at, allowNoExpiry: state.allowNoExpiry });
  if (verdict.ok) {
    const withPayload = { ...params };
    for (const [k, v] of Object.entries(verdict.payload)) withPayload[`${option.param}.${k}`] = String(v);
    return {
      route,
      params: withPayload,
      replyToken: {
        param: option.param,
        payload: verdict.payload,
        keyId: verdict.keyId,
        expiresAt: verdict.expiresAt,
      },
    };
  }
  const failed = { ...params, replyTokenError: verdict.reason };
  if (route.fallback) return { route: route.fallback, params: failed };
  return {
    refusal: { code: 550, message: `5.7.1 <${address}>: ${FAILURE_TEXT[verdict.reason]}` },
    params: failed,
  };
}
