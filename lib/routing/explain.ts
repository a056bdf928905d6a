import type { CompiledRoute } from './compile-routes.ts';
import type { ReplyTokenFailure } from './reply-address.ts';
import { FAILURE_TEXT, matchPatterns, type RouterState, resolve, take } from './route-steps.ts';
import type { RecipientDecision, RecipientExplanation, RouteConsideration, RoutingInput } from './types.ts';

function patternWords(route: CompiledRoute): string {
  const list = route.patterns.map((p) => p.source);
  return list.length === 1 ? `pattern ${list[0]}` : `any of the patterns ${list.join(', ')}`;
}

/** Why a route that took the recipient did so, and the words for the routes after it when it ends the walk. */
function takenWords(
  route: CompiledRoute,
  taken: ReturnType<typeof take>,
): { reason: string; stop: string | null } {
  if ('refusal' in taken) {
    const why = FAILURE_TEXT[taken.params.replyTokenError as ReplyTokenFailure] ?? 'reply token invalid';
    const refused = `${taken.refusal.code} ${taken.refusal.message}`;
    return {
      reason: `matched, but ${why}: refused ${refused}`,
      stop: `not evaluated: ${route.name} refused the recipient (reply token)`,
    };
  }
  const chosen = taken.route;
  const prefix =
    chosen === route
      ? 'matched'
      : `matched, but ${FAILURE_TEXT[taken.params.replyTokenError as ReplyTokenFailure] ?? 'reply token invalid'}: fallback route ${chosen.name} takes it`;
  if (chosen.reject) {
    return {
      reason: `${prefix}; rejects ${chosen.reject.code} ${chosen.reject.text}`,
      stop: `not evaluated: ${route.name} rejected the recipient`,
    };
  }
  if (chosen.continue) return { reason: `${prefix}, continue: later routes are evaluated too`, stop: null };
  return {
    reason: `${prefix}, stop: first match wins`,
    stop: `not evaluated: stopped after ${route.name} (first match wins)`,
  };
}

/**
 * Walks the routes as `decide` does and says, for each, whether it took the recipient and why (not).
 * `decision` is `decide`'s answer for the same recipient and input; it is returned with `considered`.
 */
export function explainRecipient(
  state: RouterState,
  decision: RecipientDecision,
  recipient: string,
  input: RoutingInput,
): RecipientExplanation {
  const considered: RouteConsideration[] = [];
  const resolved = resolve(state, recipient);
  if ('refusal' in resolved) {
    const reason = `not evaluated: ${resolved.refusal.message}`;
    for (const route of state.routes) considered.push({ route: route.name, matched: false, reason });
    return { ...decision, considered };
  }
  const { address } = resolved;
  const at = input.receivedAt ?? state.clock();
  let stop: string | null = null;
  for (const route of state.routes) {
    const say = (matched: boolean, reason: string) => considered.push({ route: route.name, matched, reason });
    if (stop) {
      say(false, stop);
      continue;
    }
    const params = matchPatterns(route, address);
    if (!params) {
      say(false, `recipient ${address.address} does not match ${patternWords(route)}`);
      continue;
    }
    const failed = route.conditions.explain(input);
    if (failed) {
      say(false, failed);
      continue;
    }
    const words = takenWords(route, take(state, route, params, address.address, at));
    say(true, words.reason);
    stop = words.stop;
  }
  return { ...decision, considered };
}
