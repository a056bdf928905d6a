/**
 * Whole-value match where `*` stands for any run of characters (maybe empty) and everything else is literal.
 * Case-sensitive: callers lowercase both sides for case-insensitive matching. Runs in O(pattern × value)
 * at worst (no regex backtracking), so hostile header values cannot make it slow.
 */
export function globMatch(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let starP = -1;
  let starV = 0;
  while (v < value.length) {
    if (p < pattern.length && pattern[p] === '*') {
      starP = p++;
      starV = v;
    } else if (p < pattern.length && pattern[p] === value[v]) {
      p++;
      v++;
    } else if (starP >= 0) {
      p = starP + 1;
      v = ++starV;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Escapes text for use as a literal inside a RegExp (valid with the `u` flag). */
export function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
}

/** A copy of `re` without the `g` and `y` flags, so `test`/`exec` never depend on `lastIndex`. */
export function statelessRegExp(re: RegExp): RegExp {
  return re.global || re.sticky ? new RegExp(re.source, re.flags.replace(/[gy]/g, '')) : re;
}
