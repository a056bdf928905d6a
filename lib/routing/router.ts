import { compileRouterOptions } from './compile-routes.ts';
import { explainRecipient } from './explain.ts';
import {
  isPostmaster,
  matchPatterns,
  noSuchUser,
  type Refusal,
  type RouterState,
  resolve,
  take,
} from './route-steps.ts';
import type {
  RecipientDecision,
  RecipientVerdict,
  RouteMatch,
  Router,
  RouterConfig,
  RouterOptions,
  RoutingInput,
} from './types.ts';

const POSTMASTER: RouteMatch = {
  route: 'postmaster',
  routeIndex: -1,
  params: {},
  actions: [{ kind: 'mailbox', mailbox: 'postmaster' }],
};

/**
 * Validates every route once and returns a router.
 * @throws RouteConfigError listing every bad route (index and name) at once.
 */
export function createRouter(options: RouterOptions): Router {
  const compiled = compileRouterOptions(options);
  const state: RouterState = {
    ...compiled,
    firstDomain: [...compiled.domains][0],
    allowNoExpiry: options.allowReplyTokensWithoutExpiry === true,
  };
  return {
    checkRecipient: (recipient, input) => checkRecipient(state, recipient, input),
    decide: (recipient, input) => decide(state, recipient, input),
    explain: (recipient, input) => explainRecipient(state, decide(state, recipient, input), recipient, input),
  };
}

/**
 * Builds the router a config describes, reply keys included: use this rather than `createRouter` wherever
 * a router comes from a config, so routes with `replyToken` verify against the configured keys.
 * @throws RouteConfigError as {@link createRouter} does.
 */
export function routerFromConfig(
  config: RouterConfig,
  options: Pick<RouterOptions, 'subaddressSeparator' | 'now'> = {},
): Router {
  // A router is pure: the one built for a config (when `resolveConfig` validated its routes) serves every
  // later caller with the same config — the pipeline, the ingress, `mailroom route`.
  const shared = Object.keys(options).length === 0;
  const built = shared ? routerOf.get(config) : undefined;
  if (built) return built;
  const keys = config.replyAddress?.keys;
  const router = createRouter({
    domains: config.domains,
    routes: config.routes,
    ...(keys ? { replyKeys: keys } : {}),
    ...(config.replyAddress?.allowNoExpiry ? { allowReplyTokensWithoutExpiry: true } : {}),
    ...options,
  });
  if (shared) routerOf.set(config, router);
  return router;
}

const routerOf = new WeakMap<RouterConfig, Router>();

/**
 * RCPT-time verdict: walks every possible outcome — `unmatched` = some path has taken no route yet,
 * `matched` = some path has taken a `continue` route and goes on.
 */
function checkRecipient(state: RouterState, recipient: string, input: RoutingInput): RecipientVerdict {
  const r = resolve(state, recipient);
  if ('refusal' in r) return { accepted: false, ...r.refusal };
  const { address } = r;
  if (isPostmaster(address)) return { accepted: true };

  const refusals: Refusal[] = [];
  let unmatched = true;
  let matched = false;
  const at = input.receivedAt ?? state.clock();
  for (const route of state.routes) {
    if (!unmatched && !matched) break;
    const params = matchPatterns(route, address);
    if (!params) continue;
    const outcome = route.conditions.evaluate(input, true);
    if (outcome === 'no') continue;
    const taken = take(state, route, params, address.address, at);
    const refusal =
      'refusal' in taken
        ? taken.refusal
        : taken.route.reject && { code: taken.route.reject.code, message: taken.route.reject.text };
    const goesOn = !refusal && 'route' in taken && taken.route.continue;
    if (refusal) refusals.push(refusal);
    else if (!goesOn) return { accepted: true };
    if (outcome === 'yes') {
      unmatched = false;
      matched = goesOn;
    } else {
      matched = matched || goesOn;
    }
  }
  if (matched) return { accepted: true };
  if (unmatched) refusals.push(noSuchUser(address.address));
  return { accepted: false, ...refusals[0]! };
}

/** Processing-time decision, content conditions evaluated. */
function decide(state: RouterState, recipient: string, input: RoutingInput): RecipientDecision {
  const r = resolve(state, recipient);
  if ('refusal' in r) return { recipient: r.shown, matches: [], rejected: r.refusal };
  const { address } = r;
  const matches: RouteMatch[] = [];
  let rejected: Refusal | undefined;
  const at = input.receivedAt ?? state.clock();
  for (const route of state.routes) {
    const params = matchPatterns(route, address);
    if (!params) continue;
    if (route.conditions.evaluate(input, false) !== 'yes') continue;
    const taken = take(state, route, params, address.address, at);
    if ('refusal' in taken) {
      // The route's own actions never run with an unverified token: it stands as a reject instead.
      const { code, message } = taken.refusal;
      matches.push({
        route: route.name,
        routeIndex: route.index,
        params: taken.params,
        actions: [{ kind: 'reject', code, text: message }],
      });
      rejected = taken.refusal;
      break;
    }
    const chosen = taken.route;
    const match: RouteMatch = {
      route: chosen.name,
      routeIndex: chosen.index,
      params: taken.params,
      actions: [...chosen.actions],
    };
    if (taken.replyToken) match.replyToken = taken.replyToken;
    matches.push(match);
    if (chosen.reject) {
      rejected = { code: chosen.reject.code, message: chosen.reject.text };
      break;
    }
    if (!chosen.continue) break;
  }
  if (matches.length === 0) rejected = noSuchUser(address.address);
  if (rejected && isPostmaster(address)) {
    // RFC 5321 §4.5.1: postmaster is always accepted, whatever the routes say.
    return { recipient: address.address, matches: [{ ...POSTMASTER, actions: [...POSTMASTER.actions] }] };
  }
  return rejected
    ? { recipient: address.address, matches, rejected }
    : { recipient: address.address, matches };
}
