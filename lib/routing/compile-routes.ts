import type { Action, RejectAction } from '../actions/index.ts';
import { normalizeDomain } from './address.ts';
import { type CompiledConditions, compileConditions } from './conditions.ts';
import { RouteConfigError } from './errors.ts';
import { type CompiledRecipientPattern, compileRecipientPattern } from './recipient-pattern.ts';
import type { Route, RouterOptions } from './types.ts';

/** A router's options once checked: what `createRouter` works from. */
export interface CompiledRouterOptions {
  domains: Set<string>;
  routes: CompiledRoute[];
  replyKeys: Record<string, string> | undefined;
  clock: () => Date;
}

export interface CompiledRoute {
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

/**
 * Checks every option and route at once and compiles them.
 * @throws RouteConfigError listing every bad route (index and name) at once.
 */
export function compileRouterOptions(options: RouterOptions): CompiledRouterOptions {
  const problems: string[] = [];
  const separator = options.subaddressSeparator ?? '+';
  if (typeof separator !== 'string' || separator.includes('@')) {
    problems.push("subaddressSeparator: must be a string without '@'");
  }
  const domains = compileDomains(options.domains, problems);
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
  checkFallbacks(routeList, problems);
  for (const route of routes) {
    const name = route.replyToken?.fallback;
    if (name !== undefined) route.fallback = routes.find((r) => r.name === name);
  }
  if (problems.length > 0) throw new RouteConfigError(problems);
  return { domains, routes, replyKeys, clock: options.now ?? (() => new Date()) };
}

function compileDomains(list: unknown, problems: string[]): Set<string> {
  const domains = new Set<string>();
  if (!Array.isArray(list)) {
    problems.push('domains: must be a list of domain names');
    return domains;
  }
  list.forEach((d, i) => {
    const n = typeof d === 'string' ? normalizeDomain(d) : '';
    if (n === '' || n.includes('*'))
      problems.push(`domains[${i}]: ${JSON.stringify(d)} is not a domain name`);
    else domains.add(n);
  });
  return domains;
}

/** Fallbacks are checked on the routes as written, so routes with other problems are checked too. */
function checkFallbacks(routeList: Route[], problems: string[]): void {
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
}
