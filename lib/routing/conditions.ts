import { AUTH_RESULTS, type AuthResult, isDmarcAligned } from '../auth/index.ts';
import { normalizeMailFrom } from './address.ts';
import { globMatch, statelessRegExp } from './glob.ts';
import { describePattern } from './recipient-pattern.ts';
import {
  type AuthConditions,
  CONTENT_RESULTS,
  type ContentResult,
  type RouteConditions,
  type RoutingInput,
  type ValuePattern,
} from './types.ts';

/** Outcome of a route's conditions: `'maybe'` when content conditions cannot be judged yet (RCPT time). */
export type ConditionOutcome = 'yes' | 'no' | 'maybe';

/** Validated conditions of one route. */
export interface CompiledConditions {
  /**
   * Evaluates every condition. Without `input.message`: at RCPT time (`rcptTime`) content conditions give
   * `'maybe'`; otherwise they are judged against an empty message (no From, empty subject, no headers).
   */
  evaluate(input: RoutingInput, rcptTime: boolean): ConditionOutcome;
  /**
   * The first condition that does not hold when the message is processed (as `evaluate(input, false)`
   * judges it), in words: "condition `auth.dmarc == pass` false (dmarc is fail)"; null when all hold.
   */
  explain(input: RoutingInput): string | null;
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

/** The results each method can give (RFC 8601 §2.7, RFC 7489 §11.2); others could never match. */
export const METHOD_RESULTS: Record<'spf' | 'dkim' | 'dmarc', readonly AuthResult[]> = {
  spf: ['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror'],
  dkim: ['pass', 'fail', 'neutral', 'none', 'policy', 'temperror', 'permerror'],
  dmarc: ['pass', 'fail', 'none', 'temperror', 'permerror'],
};

/** What an unchecked message (or one judged without verdicts) counts as. */
const NO_VERDICTS: NonNullable<RoutingInput['auth']> = {
  spf: {
    result: 'none',
    scope: 'mailfrom',
    domain: null,
    mailFrom: null,
    helo: null,
    clientIp: null,
  },
  dkim: [],
  dmarc: { result: 'none', domain: null, policy: null, alignment: { spf: null, dkim: null } },
};

type AuthTest = (auth: NonNullable<RoutingInput['auth']>) => boolean;

/** One verdict condition with its words: `auth.dmarc == pass`, and what the verdict was. */
interface LabelledAuthTest {
  label: string;
  test: AuthTest;
  actual: (auth: NonNullable<RoutingInput['auth']>) => string;
}

const oneOf = (list: readonly unknown[]) =>
  list.length === 1 ? ` == ${list[0]}` : ` in [${list.join(', ')}]`;

/** Compiles `when.auth` into one test; problems are pushed. */
function compileAuth(raw: unknown, problems: string[], labelled: LabelledAuthTest[]): AuthTest | undefined {
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push("when.auth: must be an object such as { dmarc: 'pass' }");
    return undefined;
  }
  const tests: AuthTest[] = [];
  for (const key of Object.keys(raw)) {
    if (!['spf', 'dkim', 'dmarc', 'dmarcAligned'].includes(key)) {
      problems.push(`when.auth: unknown key ${JSON.stringify(key)} (use spf, dkim, dmarc or dmarcAligned)`);
    }
  }
  const when = raw as AuthConditions;
  for (const method of ['spf', 'dkim', 'dmarc'] as const) {
    const given = when[method] as unknown;
    if (given === undefined) continue;
    const list = Array.isArray(given) ? given : [given];
    const where = `when.auth.${method}`;
    const allowed = METHOD_RESULTS[method];
    if (list.length === 0) {
      problems.push(`${where}: give at least one result`);
      continue;
    }
    const bad = list.filter((r) => typeof r !== 'string' || !allowed.includes(r as AuthResult));
    if (bad.length > 0) {
      const unknown = bad.some((r) => !(AUTH_RESULTS as readonly unknown[]).includes(r));
      problems.push(
        `${where}: ${bad.map((r) => JSON.stringify(r)).join(', ')} ${unknown ? 'is not a result' : `is never a ${method} result`} (${method} gives ${allowed.join(', ')})`,
      );
      continue;
    }
    const wanted = new Set(list as AuthResult[]);
    if (method === 'dkim') {
      // Any signature may satisfy it; an unsigned message counts as `none`.
      tests.push((a) =>
        a.dkim.length === 0 ? wanted.has('none') : a.dkim.some((d) => wanted.has(d.result)),
      );
      labelled.push({
        label: `auth.dkim${oneOf(list)}`,
        test: tests[tests.length - 1]!,
        actual: (a) => `dkim is ${a.dkim.length === 0 ? 'none' : a.dkim.map((d) => d.result).join(', ')}`,
      });
    } else {
      tests.push((a) => wanted.has(a[method].result));
      labelled.push({
        label: `auth.${method}${oneOf(list)}`,
        test: tests[tests.length - 1]!,
        actual: (a) => `${method} is ${a[method].result}`,
      });
    }
  }
  if (when.dmarcAligned !== undefined) {
    if (typeof when.dmarcAligned !== 'boolean')
      problems.push('when.auth.dmarcAligned: must be true or false');
    else {
      const want = when.dmarcAligned;
      tests.push((a) => isDmarcAligned(a) === want);
      labelled.push({
        label: `auth.dmarcAligned == ${want}`,
        test: tests[tests.length - 1]!,
        actual: (a) => `dmarcAligned is ${isDmarcAligned(a)}`,
      });
    }
  }
  return (auth) => tests.every((t) => t(auth));
}

/** Compiles `when.spam` or `when.virus` into one test; problems are pushed. */
function compileContent(
  raw: unknown,
  kind: 'spam' | 'virus',
  problems: string[],
  labelled: LabelledAuthTest[],
): AuthTest | undefined {
  if (raw === undefined) return undefined;
  const where = `when.${kind}`;
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) {
    problems.push(`${where}: give at least one result`);
    return undefined;
  }
  const bad = list.filter(
    (r) => typeof r !== 'string' || !(CONTENT_RESULTS as readonly string[]).includes(r),
  );
  if (bad.length > 0) {
    problems.push(
      `${where}: ${bad.map((r) => JSON.stringify(r)).join(', ')} is not a result (use ${CONTENT_RESULTS.join(', ')})`,
    );
    return undefined;
  }
  const wanted = new Set<string>(
    (list as ContentResult[]).map((r) => (r === 'processing_failed' ? 'temperror' : r)),
  );
  const test: AuthTest = (auth) => wanted.has(auth[kind]?.verdict ?? 'none');
  labelled.push({
    label: `${kind}${oneOf(list)}`,
    test,
    actual: (a) => `${kind} is ${a[kind]?.verdict ?? 'none'}`,
  });
  return test;
}

/** Validates and compiles a route's `when`. Never throws. */
export function compileConditions(when: RouteConditions | undefined): ConditionsResult {
  const problems: string[] = [];
  if (when === undefined || when === null) {
    return { ok: true, conditions: { evaluate: () => 'yes', explain: () => null } };
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
  const labelled: LabelledAuthTest[] = [];
  const authOnly = compileAuth(when.auth, problems, labelled);
  const spam = compileContent(when.spam, 'spam', problems, labelled);
  const virus = compileContent(when.virus, 'virus', problems, labelled);
  if (problems.length > 0) return { ok: false, problems };
  const verdictTests = [authOnly, spam, virus].filter((t): t is AuthTest => t !== undefined);
  const auth: AuthTest | undefined =
    verdictTests.length > 0 ? (a) => verdictTests.every((t) => t(a)) : undefined;

  const hasContent = from !== undefined || subject !== undefined || headers.length > 0;
  return {
    ok: true,
    conditions: {
      evaluate(input, rcptTime) {
        if (sender && !sender(normalizeMailFrom(input.mailFrom))) return 'no';
        // Verdicts exist only once the message is processed: at RCPT time they may still match.
        let outcome: ConditionOutcome = 'yes';
        if (auth) {
          if (input.auth) {
            if (!auth(input.auth)) return 'no';
          } else if (rcptTime) outcome = 'maybe';
          else if (!auth(NO_VERDICTS)) return 'no';
        }
        if (!hasContent) return outcome;
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
        return outcome;
      },
      explain(input) {
        const mailFrom = normalizeMailFrom(input.mailFrom);
        if (sender && !sender(mailFrom)) {
          return `condition \`when.sender\` false (envelope sender is <${mailFrom}>)`;
        }
        const verdicts = input.auth ?? NO_VERDICTS;
        for (const { label, test, actual } of labelled) {
          if (!test(verdicts)) return `condition \`${label}\` false (${actual(verdicts)})`;
        }
        const message = input.message ?? EMPTY_MESSAGE;
        const fromAddress = message.from?.address ?? '';
        if (from && (fromAddress.trim() === '' || !from(normalizeMailFrom(fromAddress)))) {
          return `condition \`when.from\` false (From: is ${fromAddress.trim() === '' ? 'absent' : `<${fromAddress}>`})`;
        }
        if (subject && !subject(message.subject ?? '')) {
          return `condition \`when.subject\` false (subject is ${JSON.stringify(message.subject ?? '')})`;
        }
        for (const { name, test } of headers) {
          if (!message.headers.some((h) => h.key.toLowerCase() === name && test(h.value))) {
            return `condition \`when.headers.${name}\` false (no ${name} header matches)`;
          }
        }
        return null;
      },
    },
  };
}
