import type { Action, RejectAction } from '../actions/types.ts';
import { type NormalizedAddress, normalizeAddress, normalizeDomain } from './address.ts';
import { type CompiledConditions, compileConditions } from './conditions.ts';
import { RouteConfigError } from './errors.ts';
import { type CompiledRecipientPattern, compileRecipientPattern } from './recipient-pattern.ts';
import { type ReplyTokenFailure, verifyReplyToken } from './reply-address.ts';
import type {
  RecipientDecision,
  RecipientVerdict,
  Route,
  RouteMatch,
  RoutingInput,
  VerifiedReplyToken,
} from './types.ts';

export interface RouterOptions {
  /** Domains we receive for: exact, case-insensitive, no implicit subdomains. */
  domains: string[];
  /** Ordered; the first route that matches a recipient wins unless it says `continue`. */
  routes: Route[];
  /** Separates a local part from its tag (`support+tag@…`); '' turns subaddress matching off. @default '+' */
  subaddressSeparator?: string;
  /**
   * Reply signing keys by key id (the config's `replyAddress.keys`), for routes with a `replyToken` option.
   * Listing a retired key keeps its tokens verifying.
   * @default undefined (a route with `replyToken` is then a config error)
   */
  replyKeys?: Record<string, string>;
  /** Accept reply tokens without an expiry (older versions minted them); see `verifyReplyToken`. @default false */
  allowReplyTokensWithoutExpiry?: boolean;
  /** Clock for reply token expiry when the input has no `receivedAt`. @default () => new Date() */
  now?: () => Date;
}

/** The parts of a Mailroom config a router is built from (`MailroomConfig` fits). */
export interface RouterConfig {
  domains: string[];
  routes: Route[];
  /** Reply address settings; `keys` and `allowNoExpiry` are used here. @default null */
  replyAddress?: { keys: Record<string, string>; allowNoExpiry?: boolean } | null;
}

/** Decides, per envelope recipient, whether it is ours and which routes take it. Pure; no I/O. */
export interface Router {
  /**
   * RCPT-time verdict. Content conditions (from, subject, headers) cannot be judged yet, so a recipient is
   * accepted when any possible outcome accepts it and refused only when every outcome refuses it.
   */
  checkRecipient(recipient: string, input: RoutingInput): RecipientVerdict;
  /**
   * Processing-time decision (content conditions evaluated). When `rejected` is set, `matches` still lists
   * the routes that took the recipient, the rejecting one last.
   */
  decide(recipient: string, input: RoutingInput): RecipientDecision;
}

interface CompiledRoute {
  name: string;
  index: number;
  patterns: CompiledRecipientPattern[];
  conditions: CompiledConditions;
  actions: Action[];
  reject: RejectAction | undefined;
  continue: boolean;
  replyToken: { param: string; fallback: string | undefined } | undefined;
  /** Resolved from `replyToken.fallback` once every route is compiled. */
  fallback?: CompiledRoute;
}

type Refusal = { code: number; message: string };

const POSTMASTER: RouteMatch = {
  route: 'postmaster',
  routeIndex: -1,
  params: {},
  actions: [{ kind: 'mailbox', mailbox: 'postmaster' }],
};

function compileRoute(
  route: Route,
  index: number,
  separator: string,
  withKeys: boolean,
  problems: string[],
): CompiledRoute | null {
  const label = (name: string) => `routes[${index}] (${name})`;
  if (route === null || typeof route !== 'object') {
    problems.push(`routes[${index}]: must be an object with match and action`);
    return null;
  }
  const name = typeof route.name === 'string' && route.name.trim() !== '' ? route.name : `route-${index}`;
  const own: string[] = [];

  const rawMatch = route.match as unknown;
  const patterns: CompiledRecipientPattern[] = [];
  const matchList = Array.isArray(rawMatch) ? rawMatch : rawMatch === undefined ? [] : [rawMatch];
  if (matchList.length === 0) own.push('match: give at least one recipient pattern');
  for (const p of matchList) {
    const r = compileRecipientPattern(p, { caseSensitive: route.caseSensitive === true, separator });
    if (r.ok) patterns.push(r.pattern);
    else own.push(`match: ${r.problem}`);
  }

  const cond = compileConditions(route.when);
  if (!cond.ok) own.push(...cond.problems);

  const rawAction = route.action as unknown;
  const actions = (
    Array.isArray(rawAction) ? rawAction : rawAction === undefined ? [] : [rawAction]
  ) as Action[];
  if (actions.length === 0) own.push('action: give at least one action, e.g. mailbox("support")');
  for (const a of actions) {
    if (a === null || typeof a !== 'object' || typeof a.kind !== 'string') {
      own.push(
        'action: not an action (use mailbox(), handler(), webhook(), lambda(), eventBridge(), forward(), reject() or drop())',
      );
    } else if (
      a.kind === 'reject' &&
      (!Number.isInteger(a.code) || a.code < 400 || a.code > 599 || typeof a.text !== 'string')
    ) {
      own.push('action: reject needs a 4xx/5xx code and a text');
    }
  }

  const replyToken = compileReplyToken(route.replyToken, patterns, own);
  if (route.replyToken !== undefined && !withKeys) {
    own.push(
      'replyToken: needs signing keys; set replyAddress: { keys, currentKeyId } in the config ' +
        '(replyKeys for createRouter)',
    );
  }

  if (own.length > 0) {
    problems.push(...own.map((p) => `${label(name)}: ${p}`));
    return null;
  }
  return {
    name,
    index,
    patterns,
    conditions: (cond as { ok: true; conditions: CompiledConditions }).conditions,
    actions,
    reject: actions.find((a): a is RejectAction => a.kind === 'reject'),
    continue: route.continue === true,
    replyToken,
  };
}

/** Checks a route's `replyToken` option against its own patterns (names of other routes are checked later). */
function compileReplyToken(
  raw: unknown,
  patterns: CompiledRecipientPattern[],
  own: string[],
): CompiledRoute['replyToken'] {
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    own.push("replyToken: must be an object such as { param: 'token' }");
    return undefined;
  }
  const { param, fallback } = raw as { param?: unknown; fallback?: unknown };
  let ok = true;
  if (typeof param !== 'string' || param === '') {
    own.push("replyToken.param: name the capture that holds the token, e.g. 'token' for 'reply+{token}@…'");
    ok = false;
  } else {
    for (const p of patterns) {
      if (!p.captures.includes(param)) {
        const has =
          p.captures.length > 0 ? `its captures are ${p.captures.join(', ')}` : 'it captures nothing';
        own.push(`replyToken.param: ${JSON.stringify(param)} is not a capture of ${p.source} (${has})`);
        ok = false;
      }
    }
  }
  if (fallback !== undefined && (typeof fallback !== 'string' || fallback.trim() === '')) {
    own.push('replyToken.fallback: must be the name of another route');
    ok = false;
  }
  return ok ? { param: param as string, fallback: fallback as string | undefined } : undefined;
}

const FAILURE_TEXT: Record<ReplyTokenFailure, string> = {
  malformed: 'reply address token is malformed',
  'bad-signature': 'reply address signature does not match',
  expired: 'reply address has expired',
  'unknown-key': 'reply address is signed with an unknown key',
};

/**
 * Validates every route once and returns a router.
 * @throws RouteConfigError listing every bad route (index and name) at once.
 */
export function createRouter(options: RouterOptions): Router {
  const problems: string[] = [];
  const separator = options.subaddressSeparator ?? '+';
  if (typeof separator !== 'string' || separator.includes('@')) {
    problems.push("subaddressSeparator: must be a string without '@'");
  }
  const domains = new Set<string>();
  const domainList = Array.isArray(options.domains) ? options.domains : [];
  if (!Array.isArray(options.domains)) problems.push('domains: must be a list of domain names');
  domainList.forEach((d, i) => {
    const n = typeof d === 'string' ? normalizeDomain(d) : '';
    if (n === '' || n.includes('*'))
      problems.push(`domains[${i}]: ${JSON.stringify(d)} is not a domain name`);
    else domains.add(n);
  });
  const routeList = Array.isArray(options.routes) ? options.routes : [];
  if (!Array.isArray(options.routes)) problems.push('routes: must be a list');
  const replyKeys = options.replyKeys;
  const hasKeys =
    replyKeys !== null &&
    typeof replyKeys === 'object' &&
    Object.values(replyKeys).some((k) => typeof k === 'string' && k !== '');
  if (replyKeys !== undefined && !hasKeys) {
    problems.push('replyKeys: must map key ids to non-empty signing keys');
  }
  const clock = options.now ?? (() => new Date());

  const routes: CompiledRoute[] = [];
  const seen = new Map<string, number>();
  routeList.forEach((route, index) => {
    const compiled = compileRoute(
      route,
      index,
      typeof separator === 'string' ? separator : '+',
      replyKeys !== undefined,
      problems,
    );
    if (!compiled) return;
    const earlier = seen.get(compiled.name);
    if (earlier !== undefined) {
      problems.push(
        `routes[${index}] (${compiled.name}): name already used by routes[${earlier}]; route names key deliveries and must be unique`,
      );
    }
    seen.set(compiled.name, index);
    routes.push(compiled);
  });

  // Fallbacks are checked on the routes as written, so routes with other problems are checked too.
  const allNames = routeList.map((r, i) =>
    r && typeof r === 'object' && typeof r.name === 'string' && r.name.trim() !== '' ? r.name : `route-${i}`,
  );
  const fallbackOf = (r: unknown): string | undefined => {
    const option = r && typeof r === 'object' ? (r as Route).replyToken : undefined;
    const name = option && typeof option === 'object' ? option.fallback : undefined;
    return typeof name === 'string' && name.trim() !== '' ? name : undefined;
  };
  routeList.forEach((raw, index) => {
    const name = fallbackOf(raw);
    if (name === undefined) return;
    const label = `routes[${index}] (${allNames[index]}): replyToken.fallback`;
    const targetIndex = allNames.indexOf(name);
    const target = routeList[targetIndex];
    if (targetIndex === index) {
      problems.push(`${label}: must name another route, not this one`);
    } else if (targetIndex < 0) {
      problems.push(`${label}: no route is named ${JSON.stringify(name)} (routes: ${allNames.join(', ')})`);
    } else if (target && typeof target === 'object' && target.replyToken !== undefined) {
      problems.push(
        `${label}: route ${JSON.stringify(name)} has a replyToken itself; ` +
          'a fallback takes unverified tokens, so it must not expect a verified one',
      );
    }
  });
  for (const route of routes) {
    const name = route.replyToken?.fallback;
    if (name !== undefined) route.fallback = routes.find((r) => r.name === name);
  }
  if (problems.length > 0) throw new RouteConfigError(problems);

  const firstDomain = [...domains][0];

  /** Parses a recipient, or returns why it is refused before any route is looked at. */
  function resolve(recipient: string): { address: NormalizedAddress } | { refusal: Refusal; shown: string } {
    const raw = typeof recipient === 'string' ? recipient.trim() : '';
    // RFC 5321 §4.1.1.3: a bare `Postmaster` (no domain) must be accepted.
    const bare = raw.replace(/^<(.*)>$/s, '$1').trim();
    const address =
      bare.toLowerCase() === 'postmaster' && firstDomain
        ? normalizeAddress(`${bare}@${firstDomain}`)
        : normalizeAddress(raw);
    if (!address) {
      return {
        refusal: { code: 553, message: `5.1.3 <${bare}>: bad recipient address syntax` },
        shown: bare,
      };
    }
    if (!domains.has(address.domain)) {
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

  function matchPatterns(route: CompiledRoute, address: NormalizedAddress): Record<string, string> | null {
    for (const p of route.patterns) {
      const params = p.match(address);
      if (params) return params;
    }
    return null;
  }

  const noSuchUser = (address: string): Refusal => ({
    code: 550,
    message: `5.1.1 <${address}>: no such user here`,
  });
  const isPostmaster = (a: NormalizedAddress) => a.local.toLowerCase() === 'postmaster';

  /**
   * What taking `route` means for this recipient once its reply token (if any) is verified: the route
   * itself (with the payload), its fallback (with `replyTokenError`), or a 5.7.1 refusal.
   */
  function take(
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
        : verifyReplyToken(token, {
            keys: replyKeys ?? {},
            now: at,
            allowNoExpiry: options.allowReplyTokensWithoutExpiry === true,
          });
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

  return {
    checkRecipient(recipient, input) {
      const r = resolve(recipient);
      if ('refusal' in r) return { accepted: false, ...r.refusal };
      const { address } = r;
      if (isPostmaster(address)) return { accepted: true };

      // Walk every possible outcome: `unmatched` = some path has taken no route yet,
      // `matched` = some path has taken a `continue` route and goes on.
      const refusals: Refusal[] = [];
      let unmatched = true;
      let matched = false;
      const at = input.receivedAt ?? clock();
      for (const route of routes) {
        if (!unmatched && !matched) break;
        const params = matchPatterns(route, address);
        if (!params) continue;
        const outcome = route.conditions.evaluate(input, true);
        if (outcome === 'no') continue;
        const taken = take(route, params, address.address, at);
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
    },

    decide(recipient, input) {
      const r = resolve(recipient);
      if ('refusal' in r) return { recipient: r.shown, matches: [], rejected: r.refusal };
      const { address } = r;
      const matches: RouteMatch[] = [];
      let rejected: Refusal | undefined;
      const at = input.receivedAt ?? clock();
      for (const route of routes) {
        const params = matchPatterns(route, address);
        if (!params) continue;
        if (route.conditions.evaluate(input, false) !== 'yes') continue;
        const taken = take(route, params, address.address, at);
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
    },
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
  const keys = config.replyAddress?.keys;
  return createRouter({
    domains: config.domains,
    routes: config.routes,
    ...(keys ? { replyKeys: keys } : {}),
    ...(config.replyAddress?.allowNoExpiry ? { allowReplyTokensWithoutExpiry: true } : {}),
    ...options,
  });
}
