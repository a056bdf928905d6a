import { headerFields } from './header-fields.ts';
import { mailauthHeaderEnd } from './header-limits.ts';
import type { DkimVerdict } from './verdicts.ts';

/** Same length as `DKIM-Signature`, so no offset moves. */
const SKIPPED_NAME = Buffer.from('X-DKIM-Skipped', 'latin1');

/**
 * Keeps at most `max` DKIM-Signature fields for verification (RFC 6376 §6.1 lets verifiers limit how
 * many they try): each one costs a DNS question and possibly a full body hash, so a message stuffed
 * with signatures must not buy unbounded work. The fields past the first `max` are renamed in a copy of
 * `raw` (`X-DKIM-Skipped`, same length) and reported as `policy` verdicts. `raw` itself is never changed.
 */
export function limitDkimSignatures(raw: Buffer, max: number): { raw: Buffer; skipped: DkimVerdict[] } {
  const fields = [...headerFields(raw, 'dkim-signature')];
  if (fields.length <= max) return { raw, skipped: [] };
  const copy = Buffer.from(raw);
  const skipped: DkimVerdict[] = [];
  for (const field of fields.slice(max)) {
    SKIPPED_NAME.copy(copy, field.start);
    const value = raw.toString('latin1', field.valueStart, field.end).replace(/\s+/g, '');
    skipped.push({
      result: 'policy',
      domain: tag(value, 'd')?.toLowerCase() ?? null,
      selector: tag(value, 's') ?? null,
      aligned: null,
      comment: `not verified: more than ${max} DKIM signatures`,
    });
  }
  return { raw: copy, skipped };
}

function tag(value: string, name: string): string | undefined {
  const found = new RegExp(`(?:^|;)${name}=([^;]{1,253})`, 'i').exec(value)?.[1];
  return found && /^[A-Za-z0-9._-]+$/.test(found) ? found : undefined;
}

/**
 * What mailauth's DKIM step needs to read of `raw`: the whole message when a line of its header block
 * starts with `DKIM-Signature` or `ARC-` (any case; their body hashes need the body), else the header
 * block alone. Without them DKIM has nothing to verify and ARC no chain, and all else that step reports
 * (the From addresses for DMARC, the ARC fields) comes from the header: the body would be scanned for
 * nothing (about 0.5 ms per 100 KB). The header block ends where mailauth ends it (see
 * {@link mailauthHeaderEnd}), so it reads the same header either way. Linear; never throws.
 */
export function dkimInput(raw: Buffer): Buffer {
  const end = mailauthHeaderEnd(raw);
  if (end >= raw.length) return raw;
  for (let pos = 0; pos < end; ) {
    if (startsWithName(raw, pos, DKIM_SIGNATURE) || startsWithName(raw, pos, ARC_PREFIX)) return raw;
    const lf = raw.indexOf(0x0a, pos);
    if (lf < 0 || lf >= end) break;
    pos = lf + 1;
  }
  return raw.subarray(0, end);
}

const DKIM_SIGNATURE = Buffer.from('dkim-signature', 'latin1');
const ARC_PREFIX = Buffer.from('arc-', 'latin1');

/** Whether the bytes at `pos` are `name` (lower-case ASCII letters, digits, `-`), in any case. */
function startsWithName(raw: Buffer, pos: number, name: Buffer): boolean {
  if (pos + name.length > raw.length) return false;
  for (let k = 0; k < name.length; k++) {
    const c = raw[pos + k]!;
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== name[k]) return false;
  }
  return true;
}
