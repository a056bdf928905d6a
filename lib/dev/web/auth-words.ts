import type { AuthVerdicts, ContentVerdict, Verdict } from './types.ts';

// The authentication verdicts as sentences: "DKIM: pass for example.com (aligned), selector s1".

function yesNo(value: boolean | null | undefined): string {
  return value === true ? 'yes' : value === false ? 'no' : 'unknown';
}

function withComment(line: string, v: { comment?: string }): string {
  return v.comment ? `${line} — ${v.comment}` : line;
}

export function spfWords(v: Verdict): string {
  const who = v.domain ? ` for ${v.domain}` : '';
  const scope = v.scope === 'helo' ? 'HELO name' : 'MAIL FROM';
  const client = v.clientIp ? `, client ${v.clientIp}` : '';
  return withComment(`SPF: ${v.result}${who} (checked ${scope}${client})`, v);
}

export function dkimWords(list: Verdict[]): string[] {
  if (list.length === 0) return ['DKIM: none (the message is not signed)'];
  return list.map((v) => {
    const who = v.domain ? ` for ${v.domain}` : '';
    const aligned = v.aligned === true ? ' (aligned)' : v.aligned === false ? ' (not aligned)' : '';
    const selector = v.selector ? `, selector ${v.selector}` : '';
    return withComment(`DKIM: ${v.result}${who}${aligned}${selector}`, v);
  });
}

export function dmarcWords(v: Verdict): string {
  const who = v.domain ? ` for ${v.domain}` : '';
  const policy = v.policy ? ` (policy ${v.policy})` : ' (no policy)';
  const alignment = v.alignment
    ? `; aligned SPF ${yesNo(v.alignment.spf)}, DKIM ${yesNo(v.alignment.dkim)}`
    : '';
  return withComment(`DMARC: ${v.result}${who}${policy}${alignment}`, v);
}

export function arcWords(v: Verdict | null): string {
  if (!v) return 'ARC: not checked';
  return withComment(`ARC: ${v.result}${v.instance ? ` (instance ${v.instance})` : ''}`, v);
}

export function scanWords(label: string, v: ContentVerdict | null): string {
  if (!v) return `${label}: not scanned`;
  const parts: string[] = [];
  if (v.scanner) parts.push(v.scanner);
  if (v.score !== undefined) {
    parts.push(`score ${v.score}${v.requiredScore !== undefined ? ` of ${v.requiredScore}` : ''}`);
  }
  if (v.virus) parts.push(`found ${v.virus}`);
  if (v.error) parts.push(v.error);
  return `${label}: ${v.verdict}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/** Every verdict as one sentence each, in the order a reader checks them. */
export function verdictLines(auth: AuthVerdicts): string[] {
  return [
    spfWords(auth.spf),
    ...dkimWords(auth.dkim),
    dmarcWords(auth.dmarc),
    arcWords(auth.arc),
    scanWords('Spam', auth.spam),
    scanWords('Virus', auth.virus),
  ];
}
