import { domainToASCII } from 'node:url';

/** An envelope address split for routing. */
export interface NormalizedAddress {
  /** Local part as received (case kept), with surrounding quotes and backslash escapes removed. */
  local: string;
  /** Lowercase domain without a trailing dot; internationalized names in ASCII (punycode) form. */
  domain: string;
  /** `local@domain`. */
  address: string;
}

/** Generous bounds (RFC 5321 allows 64 and 254); longer input is refused rather than matched. */
const MAX_LOCAL = 256;
const MAX_ADDRESS = 512;

/**
 * Lowercases a domain, removes one trailing dot and converts an internationalized name to its ASCII form.
 * Returns '' when nothing usable is left.
 */
export function normalizeDomain(domain: string): string {
  let d = domain.trim().toLowerCase();
  if (d.endsWith('.')) d = d.slice(0, -1);
  if (d === '' || /[\s@<>"\\]/.test(d)) return '';
  if (!/^[\x00-\x7f]*$/.test(d) && !d.startsWith('[')) return domainToASCII(d) || d;
  return d;
}

/** Strips whitespace, angle brackets and an RFC 5321 source route (`<@relay:user@host>` → `user@host`). */
function unwrap(input: string): string {
  let s = input.trim();
  if (s.startsWith('<') && s.endsWith('>')) s = s.slice(1, -1).trim();
  if (s.startsWith('@') && s.includes(':')) s = s.slice(s.indexOf(':') + 1);
  return s;
}

/** Removes the quotes of a quoted local part (`"john doe"` → `john doe`, `"a\"b"` → `a"b`). */
function unquote(local: string): string {
  if (local.length >= 2 && local.startsWith('"') && local.endsWith('"')) {
    return local.slice(1, -1).replace(/\\([\s\S])/g, '$1');
  }
  return local;
}

/**
 * Splits an envelope address at its last '@' for routing. Accepts `<...>` brackets, odd case, a trailing
 * dot on the domain and quoted local parts. Returns null for anything that is not an address (no '@',
 * empty local part or domain, control characters, absurd length).
 */
export function normalizeAddress(input: string): NormalizedAddress | null {
  if (typeof input !== 'string' || input.length > MAX_ADDRESS * 2) return null;
  const s = unwrap(input);
  if (/[\x00-\x1f\x7f]/.test(s)) return null;
  const at = s.lastIndexOf('@');
  if (at <= 0) return null;
  const local = unquote(s.slice(0, at));
  const domain = normalizeDomain(s.slice(at + 1));
  if (local === '' || domain === '' || local.length > MAX_LOCAL) return null;
  const address = `${local}@${domain}`;
  if (address.length > MAX_ADDRESS) return null;
  return { local, domain, address };
}

/**
 * The envelope sender as conditions see it: '' for the null sender (`''` or `<>`), otherwise
 * `local@domain` with the domain normalized; input that is not an address is returned trimmed.
 */
export function normalizeMailFrom(mailFrom: string): string {
  const s = unwrap(mailFrom ?? '');
  if (s === '') return '';
  return normalizeAddress(s)?.address ?? s;
}
