import { join, resolve } from 'node:path';
import {
  DEFAULT_ATTACHMENT_GRACE_HOURS,
  deleteRawFiles,
  LocalAttachmentStore,
  type PruneResult,
  pruneMessages,
  type RetentionPolicy,
  SqliteMessageStore,
} from '../../store/index.ts';
import { loadCliConfig } from '../config-path.ts';
import { UsageError } from '../errors.ts';
import type { PruneArgs } from './prune.usage.ts';

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--older-than`: a duration (`30d`, `12h`, `90m`) as days. */
export function olderThanDays(value: string): number {
  const match = /^(\d+(?:\.\d+)?)([mhd])$/.exec(value.trim());
  const ms = match ? Number(match[1]) * UNIT_MS[match[2]!]! : Number.NaN;
  if (!(ms > 0)) throw new UsageError(`--older-than must be a duration like 30d, 12h or 90m, got '${value}'`);
  return ms / UNIT_MS.d!;
}

/** `--keep`: a whole number of messages, 0 or more. */
export function keepCount(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0) {
    throw new UsageError(`--keep must be a whole number of messages (0 or more), got '${value}'`);
  }
  return n;
}

/** The policy of this run: the config's retention, with the limits given as options replacing its own. */
export function prunePolicy(configured: RetentionPolicy | null | undefined, values: PruneArgs['values']) {
  const maxAgeDays = values['older-than'] === undefined ? undefined : olderThanDays(values['older-than']);
  const maxMessages = values.keep === undefined ? undefined : keepCount(values.keep);
  const given = maxAgeDays !== undefined || maxMessages !== undefined;
  const policy: RetentionPolicy = {
    attachmentGraceHours: configured?.attachmentGraceHours ?? DEFAULT_ATTACHMENT_GRACE_HOURS,
  };
  const age = given ? maxAgeDays : configured?.maxAgeDays;
  const count = given ? maxMessages : configured?.maxMessages;
  if (age !== undefined) policy.maxAgeDays = age;
  if (count !== undefined) policy.maxMessages = count;
  if (policy.maxAgeDays === undefined && policy.maxMessages === undefined) {
    throw new UsageError('nothing to prune by: give --older-than or --keep, or set retention in the config');
  }
  return policy;
}

/** One line per kind: `messages: 12 deleted, 34567 bytes`. */
export function pruneReport(result: PruneResult): string {
  const verb = result.dryRun ? 'would be deleted' : 'deleted';
  return (
    `messages: ${result.messages} ${verb}, ${result.rawBytes} bytes of raw mail\n` +
    `attachments: ${result.attachments} ${verb}, ${result.attachmentBytes} bytes\n`
  );
}

/**
 * `mailroom prune`: retention once, on the data folder. Records go through SQLite (shared safely with a
 * running server), raw files are unlinked without touching the server's journal (`deleteRawFiles`).
 */
export async function pruneCommand({ values }: PruneArgs): Promise<number> {
  const config = await loadCliConfig(values.config);
  const retention = prunePolicy(config.retention, values);
  const dataDir = resolve(values.data ?? config.dataDir);
  const store = new SqliteMessageStore(join(dataDir, 'mailroom.db'));
  try {
    const result = await pruneMessages({
      store,
      rawStore: { delete: (id) => deleteRawFiles(dataDir, id) },
      attachments: new LocalAttachmentStore(dataDir),
      retention,
      now: new Date(),
      dryRun: values['dry-run'] ?? false,
    });
    process.stdout.write(pruneReport(result));
    return 0;
  } finally {
    await store.close();
  }
}
