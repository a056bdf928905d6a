import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Logger, silentLogger } from '../kernel/index.ts';
import type { OutboundMail } from '../outbound/index.ts';
import type { CloudActionEvent } from './cloud-event.ts';
import type { CloudActionPorts, CloudActionResult } from './cloud-port-contract.ts';

/** A Lambda invocation or EventBridge event that the local stand-in recorded instead of sending. */
export interface RecordedCloudAction {
  kind: 'lambda' | 'eventBridge';
  /** Function name (`name:qualifier` with a qualifier) or bus name. */
  target: string;
  idempotencyKey: string;
  /** EventBridge only. */
  source?: string;
  /** EventBridge only. */
  detailType?: string;
  /** The Lambda payload, or the EventBridge event's `detail`. */
  event: CloudActionEvent;
  /** ISO 8601 time it was recorded. */
  recordedAt: string;
}

export interface LocalActionPortsOptions {
  /**
   * Where `forward()` actions send: `mailroom dev` passes its outbound mail (the outbox, listed at
   * `GET /api/outbox`, or the configured SMTP relay). Without it, forward actions fail with a clear error.
   */
  outbound?: OutboundMail;
  /** Default From of forwards. @default the recipient that routed the message */
  forwardFrom?: string;
  /**
   * How `lambda()` and `eventBridge()` actions are stood in for:
   * - `{ dir }`: each event is written to `<dir>/<key>.json` (one file per delivery, rewritten on retry);
   * - `'memory'`: kept in memory (the newest 1000), listed by `recorded()`: for tests;
   * - `false`: no stand-in; those actions fail with a clear error (a production host without AWS).
   * @default 'memory'
   */
  record?: { dir: string } | 'memory' | false;
  /** @default a logger that discards everything */
  logger?: Logger;
  /** @default () => new Date() */
  now?: () => Date;
}

export interface LocalActionPorts extends CloudActionPorts {
  /** Recorded actions, oldest first (`record: 'memory'` only; empty otherwise). */
  recorded(): RecordedCloudAction[];
}

/** Entries `record: 'memory'` keeps. */
const MEMORY_LIMIT = 1000;

function fileKey(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32);
}

/**
 * The action ports of a machine without AWS (`mailroom dev`, `mailroom/testing`). Like a local mail
 * catcher (Mailpit, smtp4dev) or Cloudflare's local `send_email`: nothing leaves the machine unless you
 * configured it to. `lambda()` and `eventBridge()` deliveries are recorded, not invoked, and are
 * `delivered` with a trace detail that says so and where the event is (`lambda process-order not invoked
 * (local stand-in): event recorded in .mailroom/cloud-actions/….json`), so the same config runs locally
 * and on AWS, and the exact payload can be inspected. `forward()` goes through the local outbound mail.
 */
export function createLocalActionPorts(options: LocalActionPortsOptions = {}): LocalActionPorts {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? (() => new Date());
  const record = options.record ?? 'memory';
  const dir = typeof record === 'object' ? record.dir : null;
  const memory = new Map<string, RecordedCloudAction>();

  const keep = async (entry: RecordedCloudAction): Promise<CloudActionResult> => {
    const what = `${entry.kind} ${entry.target} not invoked (local stand-in)`;
    if (dir === null) {
      memory.delete(entry.idempotencyKey);
      memory.set(entry.idempotencyKey, entry);
      if (memory.size > MEMORY_LIMIT) memory.delete(memory.keys().next().value as string);
      logger.info(`${what}: event recorded`, { delivery: entry.idempotencyKey });
      return { detail: 'not invoked (local stand-in): event recorded' };
    }
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${fileKey(entry.idempotencyKey)}.json`);
    const tmp = `${file}.tmp`;
    await writeFile(tmp, `${JSON.stringify(entry, null, 2)}\n`);
    await rename(tmp, file);
    logger.info(`${what}: event recorded in ${file}`, { delivery: entry.idempotencyKey });
    return { detail: `not invoked (local stand-in): event recorded in ${file}` };
  };

  const ports: LocalActionPorts = {
    recorded: () => [...memory.values()],
  };
  if (options.forwardFrom !== undefined) ports.forwardFrom = options.forwardFrom;
  if (record !== false) {
    ports.invokeLambda = (request) =>
      keep({
        kind: 'lambda',
        target: request.qualifier ? `${request.functionName}:${request.qualifier}` : request.functionName,
        idempotencyKey: request.idempotencyKey,
        event: request.event,
        recordedAt: now().toISOString(),
      });
    ports.putEvent = (request) =>
      keep({
        kind: 'eventBridge',
        target: request.eventBusName,
        idempotencyKey: request.idempotencyKey,
        source: request.source,
        detailType: request.detailType,
        event: request.detail,
        recordedAt: now().toISOString(),
      });
  }
  const outbound = options.outbound;
  if (outbound) {
    ports.forward = async (request) => {
      const kind = outbound.kind ?? 'custom';
      const sent = await outbound.send(request.raw, request.envelope, request.context);
      const refused = sent.rejected?.length ? `; refused: ${sent.rejected.join(', ')}` : '';
      return {
        detail:
          kind === 'outbox'
            ? `kept in the outbox (not sent) as ${sent.messageId}`
            : `sent via ${kind} as ${sent.messageId}${refused}`,
      };
    };
  }
  return ports;
}
