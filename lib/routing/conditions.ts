import { normalizeMailFrom } from './address.ts';
import { globMatch, statelessRegExp } from './glob.ts';
import { describePattern } from './recipient-pattern.ts';
import type { RouteConditions, RoutingInput, ValuePattern } from './types.ts';

/** Outcome of a route's conditions: `'maybe'` when content conditions cannot be judged yet (RCPT time). */
export type ConditionOutcome = 'yes' | 'no' | 'maybe';

/** Validated conditions of one route. */
export interface CompiledConditions {
  /**
   * Evaluates every condition. Without `input.message`: at RCPT time (`rcptTime`) content conditions give
   * `'maybe'`; otherwise they are judged against an empty message (no From, empty subject, no headers).
   */
  evaluate(input: RoutingInput, rcptTime: boolean): ConditionOutcome;
}

/** Either compiled conditions or every problem found in them. */
export type ConditionsResult =
  | { ok: true; conditions: CompiledConditions }
  | { ok: false; problems: string[] };

type ValueTest = (value: string) => boolean;

const EMPTY_MESSAGE: NonNullable<RoutingInput['message']> = { from: null, subject: null, headers: [] };

/**
 * A string is matched as a whole, case-insensitively, `*` being a wildcard, against the trimmed value;
 * a RegExp is tested as given. `address` patterns also accept `<...>` brackets, and `<>` means ''.
 */
function compileValue(pattern: unknown, where: string, address: boolean): ValueTest | string {
  if (pattern instanceof RegExp) {
    const re = statelessRegExp(pattern);
    return (value) => re.test(value);
  }
  if (typeof pattern === 'string') {
    let p = pattern.trim();
    if (address && p.startsWith('<') && p.endsWith('>')) p = p.slice(1, -1).trim();
    const glob = p.toLowerCase();
    return (value) => globMatch(glob, value.trim().toLowerCase());
  }
  return `${where}: ${describePattern(pattern)} is not a string or RegExp`;
}

function compileList(patterns: unknown, where: string, problems: string[]): ValueTest | undefined {
  if (patterns === undefined) return undefined;
  const list = Array.isArray(patterns) ? patterns : [patterns];
  const tests: ValueTest[] = [];
  list.forEach((p, i) => {
    const t = compileValue(p, Array.isArray(patterns) ? `${where}[${i}]` : where, true);
    if (typeof t === 'string') problems.push(t);
    else tests.push(t);
  });
  // An empty list matches nothing (an empty allow-list lets nobody in).
  return (value) => tests.some((t) => t(value));
}

/** Validates and compiles a route's `when`. Never throws. */
export function compileConditions(when: RouteConditions | undefined): ConditionsResult {
  const problems: string[] = [];
  if (when === undefined || when === null) {
    return { ok: true, conditions: { evaluate: () => 'yes' } };
  }
  if (typeof when !== 'object') return { ok: false, problems: ['when: must be an object'] };

  const sender = compileList(when.sender, 'when.sender', problems);
  const from = compileList(when.from, 'when.from', problems);
  let subject: ValueTest | undefined;
  if (when.subject !== undefined) {
    const t = compileValue(when.subject as ValuePattern, 'when.subject', false);
    if (typeof t === 'string') problems.push(t);
    else subject = t;
  }
  const headers: { name: string; test: ValueTest }[] = [];
  if (when.headers !== undefined) {
    if (when.headers === null || typeof when.headers !== 'object') {
      problems.push('when.headers: must be an object of header name → pattern');
    } else {
      for (const [name, pattern] of Object.entries(when.headers)) {
        const key = name.trim().toLowerCase();
        if (key === '' || /[\s:]/.test(key)) {
          problems.push(`when.headers: ${JSON.stringify(name)} is not a header name`);
          continue;
        }
        const t = compileValue(pattern, `when.headers[${JSON.stringify(name)}]`, false);
        if (typeof t === 'string') problems.push(t);
        else headers.push({ name: key, test: t });
      }
    }
  }
  if (problems.length > 0) return { ok: false, problems };

  const hasContent = from !== undefined || subject !== undefined || headers.length > 0;
  return {
    ok: true,
    conditions: {
      evaluate(input, rcptTime) {
        if (sender && !sender(normalizeMailFrom(input.mailFrom))) return 'no';
        if (!hasContent) return 'yes';
        if (!input.message && rcptTime) return 'maybe';
        const message = input.message ?? EMPTY_MESSAGE;
        if (from) {
          const address = message.from?.address ?? '';
          if (address.trim() === '' || !from(normalizeMailFrom(address))) return 'no';
        }
        if (subject && !subject(message.subject ?? '')) return 'no';
        for (const { name, test } of headers) {
          let found = false;
          for (const h of message.headers) {
            if (h.key.toLowerCase() === name && test(h.value)) {
              found = true;
              break;
            }
          }
          if (!found) return 'no';
        }
        return 'yes';
      },
    },
  };
}
