import type { DnsErrorCode, MxAnswer } from './dns-resolver.ts';

/** The records of one name in a {@link StaticZone}. */
export interface StaticRecords {
  /** A string is one record of one character-string; an array is one record split into character-strings. */
  TXT?: ReadonlyArray<string | readonly string[]>;
  MX?: readonly MxAnswer[];
  A?: readonly string[];
  AAAA?: readonly string[];
  PTR?: readonly string[];
  /** An alias: questions of every other type are answered for the target (chains followed, loops fail). */
  CNAME?: string;
  /**
   * The answer to a question of a type this name has no records for.
   * @default 'ENODATA' (the name exists, the type does not)
   */
  error?: DnsErrorCode;
}

/** A DNS zone in memory: names (case-insensitive, trailing dot optional) → their records. */
export type StaticZone = Readonly<Record<string, StaticRecords>>;
