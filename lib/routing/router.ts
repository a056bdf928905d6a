import type { Action, RejectAction } from '../actions/types.ts';
import { type NormalizedAddress, normalizeAddress, normalizeDomain } from './address.ts';
import { type CompiledConditions, compileConditions } from './conditions.ts';
import { RouteConfigError } from './errors.ts';
import { type CompiledRecipientPattern, compileRecipientPattern } from './recipient-pattern.ts';
import type { RecipientDecision, RecipientVerdict, Route, RouteMatch, RoutingInput } from './types.ts';

export interface RouterOptions {
  /** Domains we receive for: exact, case-insensitive, no implicit subdomains. */
  domains: string[];
  /** Ordered; the first route that matches a recipient wins unless it says `continue`. */
  routes: Route[];
  /** Separates a local part from its tag (`support+tag@…`); '' turns subaddress matching off. @default '+' */
  subaddressSeparator?: string;
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
      own.push('action: not an action (use mailbox(), handler(), webhook(), reject() or drop())');
    } else if (
      a.kind === 'reject' &&
      (!Number.isInteger(a.code) || a.code < 400 || a.code > 599 || typeof a.text !== 'string')
    ) {
      own.push('action: reject needs a 4xx/5xx code and a text');
    }
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
  };
}

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

  const routes: CompiledRoute[] = [];
  const seen = new Map<string, number>();
  routeList.forEach((route, index) => {
    const compiled = compileRoute(route, index, typeof separator === 'string' ? separator : '+', problems);
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
      for (const route of routes) {
        if (!unmatched && !matched) break;
        if (!matchPatterns(route, address)) continue;
        const outcome = route.conditions.evaluate(input, true);
        if (outcome === 'no') continue;
        if (route.reject) refusals.push({ code: route.reject.code, message: route.reject.text });
        else if (!route.continue) return { accepted: true };
        const goesOn = !route.reject && route.continue;
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
      for (const route of routes) {
        const params = matchPatterns(route, address);
        if (!params) continue;
        if (route.conditions.evaluate(input, false) !== 'yes') continue;
        matches.push({ route: route.name, routeIndex: route.index, params, actions: [...route.actions] });
        if (route.reject) {
          rejected = { code: route.reject.code, message: route.reject.text };
          break;
        }
        if (!route.continue) break;
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
