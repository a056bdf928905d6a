const MONTHS: Readonly<Record<string, number>> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

/** Zone names in minutes east of UTC: RFC 5322 obsolete zones plus a few that real mail carries. */
const ZONES: Readonly<Record<string, number>> = {
  ut: 0,
  utc: 0,
  gmt: 0,
  z: 0,
  edt: -240,
  est: -300,
  cdt: -300,
  cst: -360,
  mdt: -360,
  mst: -420,
  pdt: -420,
  pst: -480,
  akst: -540,
  akdt: -480,
  hst: -600,
  bst: 60,
  wet: 0,
  west: 60,
  cet: 60,
  met: 60,
  cest: 120,
  mest: 120,
  eet: 120,
  eest: 180,
  msk: 180,
  ist: 330,
  hkt: 480,
  jst: 540,
  kst: 540,
  aest: 600,
  aedt: 660,
  nzst: 720,
  nzdt: 780,
};

// [day-of-week ,] day month year hour:minute[:second] [zone]; tolerant of dashes, dots and missing commas
const RFC5322 =
  /^(?:[A-Za-z]{2,12}\.?,?\s*)?(\d{1,2})[\s-]+([A-Za-z]{3,12})\.?[\s-]+(\d{2,4}),?\s+(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.\d{1,9})?)?\s*(?:([+-])\s?(\d{1,2}):?(\d{2})|\(?([A-Za-z]{1,5})\)?)?/;
// asctime: "Tue May  7 23:11:57 2013" (optionally with a zone before the year)
const ASCTIME =
  /^(?:[A-Za-z]{2,12},?\s+)([A-Za-z]{3,12})\s+(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(?:([A-Za-z]{1,5})\s+)?(\d{4})/;
// ISO 8601 / RFC 3339
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

function fullYear(year: string): number {
  const y = Number(year);
  if (year.length === 2) return y < 50 ? 2000 + y : 1900 + y;
  if (year.length === 3) return 1900 + y;
  return y;
}

function build(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  offsetMinutes: number,
): Date | null {
  if (year < 1000 || year > 9999 || month < 0 || month > 11 || day < 1 || day > 31) return null;
  if (hour > 24 || minute > 59 || second > 60) return null;
  const ms = Date.UTC(year, month, day, hour, minute, Math.min(second, 59));
  const check = new Date(Date.UTC(year, month, day));
  if (check.getUTCDate() !== day) return null; // 31 Feb and the like
  const date = new Date(ms - offsetMinutes * 60_000);
  return Number.isNaN(date.getTime()) ? null : date;
}

function zoneOffset(name: string | undefined): number {
  if (!name) return 0;
  const lower = name.toLowerCase();
  return ZONES[lower] ?? 0; // unknown and military zones: treated as UTC (RFC 5322 section 4.3)
}

/**
 * Parses the value of a Date header: RFC 5322 date-time (obsolete forms included), asctime and ISO 8601.
 * Returns null when the value is not a recognisable date; never guesses from arbitrary text.
 */
export function parseMessageDate(value: string): Date | null {
  const text = value.slice(0, 400).replace(/\s+/g, ' ').trim();
  if (!text) return null;
  let m = RFC5322.exec(text);
  if (m) {
    const month = MONTHS[m[2]!.slice(0, 3).toLowerCase()];
    if (month === undefined) return null;
    let offset = 0;
    if (m[7]) {
      const sign = m[7] === '-' ? -1 : 1;
      const hours = Number(m[8]);
      const minutes = Number(m[9]);
      if (hours > 23 || minutes > 59) return null;
      offset = sign * (hours * 60 + minutes);
    } else {
      offset = zoneOffset(m[10]);
    }
    return build(fullYear(m[3]!), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0), offset);
  }
  m = ASCTIME.exec(text);
  if (m) {
    const month = MONTHS[m[1]!.slice(0, 3).toLowerCase()];
    if (month === undefined) return null;
    return build(
      Number(m[7]),
      month,
      Number(m[2]),
      Number(m[3]),
      Number(m[4]),
      Number(m[5] ?? 0),
      zoneOffset(m[6]),
    );
  }
  m = ISO.exec(text);
  if (m) {
    let offset = 0;
    const zone = m[7];
    if (zone && zone.toUpperCase() !== 'Z') {
      const sign = zone.startsWith('-') ? -1 : 1;
      const digits = zone.slice(1).replace(':', '');
      offset = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
    }
    return build(
      Number(m[1]),
      Number(m[2]) - 1,
      Number(m[3]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6] ?? 0),
      offset,
    );
  }
  return null;
}
