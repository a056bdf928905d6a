import { headerFields } from './header-fields.ts';
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
