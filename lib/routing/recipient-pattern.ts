import { type NormalizedAddress, normalizeDomain } from './address.ts';
import { escapeRegExp, globMatch, statelessRegExp } from './glob.ts';
import type { RecipientPattern } from './types.ts';

/** A validated recipient pattern: `match` returns the captured params, or null when it does not apply. */
export interface CompiledRecipientPattern {
  /** The pattern as written, for messages and traces. */
  source: string;
  /** Names of the params a match can yield (`{name}` captures, named groups, `tag` for subaddresses). */
  captures: string[];
  match(address: NormalizedAddress): Record<string, string> | null;
}

/** How a route compares local parts. */
export interface RecipientPatternOptions {
  /** @default false */
  caseSensitive?: boolean;
  /** Subaddress separator for exact patterns; '' turns subaddress matching off. @default '+' */
  separator?: string;
}

/** Either a compiled pattern or the reason it is unusable. */
export type RecipientPatternResult =
  | { ok: true; pattern: CompiledRecipientPattern }
  | { ok: false; problem: string };

const CAPTURE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Shows a pattern the way a user wrote it. */
export function describePattern(pattern: unknown): string {
  if (typeof pattern === 'string') return JSON.stringify(pattern);
  if (pattern instanceof RegExp) return String(pattern);
  try {
    return JSON.stringify(pattern) ?? String(pattern);
  } catch {
    return String(pattern);
  }
}

/** Every named group of a RegExp: an added empty alternative matches '' and lists them all. */
function groupNames(re: RegExp): string[] {
  try {
    return Object.keys(new RegExp(`${re.source}|`, re.flags.replace(/[gy]/g, '')).exec('')?.groups ?? {});
  } catch {
    return [];
  }
}

type DomainMatcher = (domain: string) => boolean;

function compileDomain(raw: string, desc: string): DomainMatcher | string {
  const trimmed = raw.trim();
  if (trimmed === '' || trimmed === '.') return `${desc} has no domain after '@'`;
  if (/[{}]/.test(trimmed)) return `${desc}: captures ({name}) are only allowed in the local part`;
  if (/[\s@<>"\\]/.test(trimmed)) return `${desc}: the domain contains characters a domain cannot have`;
  if (!trimmed.includes('*')) {
    const domain = normalizeDomain(trimmed);
    if (domain === '') return `${desc}: not a usable domain`;
    return (d) => d === domain;
  }
  let glob = trimmed.toLowerCase();
  if (glob.endsWith('.')) glob = glob.slice(0, -1);
  // Internationalized labels without wildcards are compared in their ASCII form, like recipients.
  glob = glob
    .split('.')
    .map((label) => (label.includes('*') ? label : normalizeDomain(label) || label))
    .join('.');
  return (d) => globMatch(glob, d);
}

type LocalMatcher = ((local: string) => Record<string, string> | null) & { captures?: string[] };

function withCaptures(matcher: LocalMatcher, captures: string[]): LocalMatcher {
  matcher.captures = captures;
  return matcher;
}

function compileLocal(
  raw: string,
  desc: string,
  caseSensitive: boolean,
  separator: string,
): LocalMatcher | string {
  let local = raw.trim();
  if (local === '') return () => ({});
  if (local.length >= 2 && local.startsWith('"') && local.endsWith('"')) {
    local = local.slice(1, -1).replace(/\\([\s\S])/g, '$1');
  }
  const flags = caseSensitive ? 'su' : 'isu';
  let source = '';
  let variable = false;
  const names = new Set<string>();
  for (let i = 0; i < local.length; i++) {
    const ch = local[i]!;
    if (ch === '*') {
      source += '.*';
      variable = true;
    } else if (ch === '{') {
      const end = local.indexOf('}', i + 1);
      if (end < 0) return `${desc}: '{' without a closing '}' (captures are written {name})`;
      const name = local.slice(i + 1, end);
      if (!CAPTURE_NAME.test(name)) {
        return `${desc}: capture name {${name}} must be letters, digits or '_' and not start with a digit`;
      }
      if (names.has(name)) return `${desc}: capture {${name}} appears twice`;
      names.add(name);
      source += `(?<${name}>[^@]+?)`;
      variable = true;
      i = end;
    } else if (ch === '}') {
      return `${desc}: '}' without an opening '{' (captures are written {name})`;
    } else {
      source += escapeRegExp(ch);
    }
  }
  if (variable) {
    const re = new RegExp(`^${source}$`, flags);
    return withCaptures(
      (value) => {
        const m = re.exec(value);
        if (!m) return null;
        const params: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) params[k] = v;
        return params;
      },
      [...names],
    );
  }
  // Exact local part, optionally followed by `<separator><tag>`.
  const sub = separator === '' ? '' : `(?:${escapeRegExp(separator)}([\\s\\S]*))?`;
  const re = new RegExp(`^${source}${sub}$`, flags);
  return withCaptures(
    (value) => {
      const m = re.exec(value);
      if (!m) return null;
      const params: Record<string, string> = {};
      if (m[1] !== undefined) params.tag = m[1];
      return params;
    },
    separator === '' ? [] : ['tag'],
  );
}

function fromParts(source: string, local: LocalMatcher, domain: DomainMatcher): CompiledRecipientPattern {
  return {
    source,
    captures: local.captures ?? [],
    match(address) {
      if (!domain(address.domain)) return null;
      return local(address.local);
    },
  };
}

/**
 * Validates and compiles one recipient pattern (see {@link RecipientPattern} for the forms).
 * Never throws: an unusable pattern comes back as `{ ok: false, problem }`.
 */
export function compileRecipientPattern(
  pattern: RecipientPattern,
  options: RecipientPatternOptions = {},
): RecipientPatternResult {
  const caseSensitive = options.caseSensitive ?? false;
  const separator = options.separator ?? '+';
  const desc = describePattern(pattern);

  if (pattern instanceof RegExp) {
    const re = statelessRegExp(pattern);
    return {
      ok: true,
      pattern: {
        source: desc,
        captures: groupNames(re),
        match(address) {
          const m = re.exec(address.address);
          if (!m) return null;
          const params: Record<string, string> = {};
          for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) params[k] = v;
          return params;
        },
      },
    };
  }

  if (typeof pattern === 'string') {
    const s = pattern.trim().replace(/^<(.*)>$/s, '$1');
    if (s === '') return { ok: false, problem: 'a recipient pattern must not be empty' };
    const at = s.lastIndexOf('@');
    if (at < 0) {
      return {
        ok: false,
        problem: `${desc} has no '@'; write 'name@example.com', '*@example.com' or '@example.com'`,
      };
    }
    const domain = compileDomain(s.slice(at + 1), desc);
    if (typeof domain === 'string') return { ok: false, problem: domain };
    const local = compileLocal(s.slice(0, at), desc, caseSensitive, separator);
    if (typeof local === 'string') return { ok: false, problem: local };
    return { ok: true, pattern: fromParts(desc, local, domain) };
  }

  if (
    pattern !== null &&
    typeof pattern === 'object' &&
    typeof (pattern as { domain?: unknown }).domain === 'string'
  ) {
    const domain = compileDomain(pattern.domain, desc);
    if (typeof domain === 'string') return { ok: false, problem: domain };
    return { ok: true, pattern: fromParts(desc, () => ({}), domain) };
  }

  return {
    ok: false,
    problem: `${desc} is not a recipient pattern (use an address string, a RegExp or { domain: 'example.com' })`,
  };
}

/**
 * The domain part of a recipient pattern, for checking it against the config's `domains`: null for a
 * RegExp (its domains cannot be listed) and for a pattern that does not compile.
 */
export function recipientPatternDomain(
  pattern: RecipientPattern,
): { source: string; wildcard: boolean; matches: (domain: string) => boolean } | null {
  let raw: string;
  if (typeof pattern === 'string') {
    const s = pattern.trim().replace(/^<(.*)>$/s, '$1');
    raw = s.slice(s.lastIndexOf('@') + 1);
    if (!s.includes('@')) return null;
  } else if (pattern !== null && typeof pattern === 'object' && !(pattern instanceof RegExp)) {
    raw = pattern.domain;
  } else return null;
  const matches = compileDomain(raw, describePattern(pattern));
  if (typeof matches === 'string') return null;
  return { source: raw.trim().toLowerCase(), wildcard: raw.includes('*'), matches };
}
