import type { CloudActionPorts } from '../actions/index.ts';
import { actionTarget, runAction } from '../actions/run-action.ts';
import { authenticateMessage } from '../auth/authenticate.ts';
import { type AuthVerdicts, authSummary, uncheckedVerdicts } from '../auth/verdicts.ts';
import type { MailroomConfig } from '../config/types.ts';
import type { Envelope, Logger } from '../kernel/index.ts';
import { errorText, silentLogger } from '../kernel/index.ts';
import { parseMessage } from '../message/index.ts';
import type { Address, ParsedMessage } from '../message/types.ts';
import { ReplyRateLimiter } from '../outbound/reply-rate-limit.ts';
import { parseSenderAddress } from '../outbound/sender-address.ts';
import type { OutboundMail } from '../outbound/types.ts';
import { routerFromConfig } from '../routing/index.ts';
import { newMessageId } from '../store/message-id.ts';
import type { DeliveryRecord, MessageStatus, MessageStore, RawStore } from '../store/types.ts';
import { backoffDelay, sleep } from './backoff.ts';
import { PipelineError } from './errors.ts';
import type { PipelineEvent, PipelineEventListener } from './events.ts';
import { IngestPriorityGate } from './ingest-priority.ts';
import { type PlannedDelivery, planDeliveries } from './plan-deliveries.ts';
import { WorkQueue } from './work-queue.ts';

export interface PipelineDeps {
  config: MailroomConfig;
  rawStore: RawStore;
  store: MessageStore;
  /** @default a logger that discards everything */
  logger?: Logger;
  /** @default () => new Date() */
  now?: () => Date;
  /** Random source for retry jitter, in [0, 1). @default Math.random */
  random?: () => number;
  /** Used by webhook actions. @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * Where handlers' `ctx.reply` sends (see `createOutboundMail`). Not closed by `close()`: the caller owns
   * it. Without it `ctx.reply` throws `OutboundConfigError`.
   */
  outbound?: OutboundMail;
  /**
   * From of `ctx.reply`: `support@example.com` or `Support <support@example.com>`; `createPipeline`
   * throws `OutboundConfigError` when it is not one mailbox.
   * @default the envelope recipient the delivery serves
   */
  replyFrom?: string | Address;
  /**
   * How `lambda()`, `eventBridge()` and `forward()` actions reach their services: `createAwsActionPorts`
   * (lib/aws) in the Lambda processor, `createLocalActionPorts` in `mailroom dev`. Without the port an
   * action needs, its deliveries fail with a `DeliveryError` that says so.
   */
  cloud?: CloudActionPorts;
}

/** A message handed over by an ingress (SMTP, the dev HTTP API, `mailroom/testing`). */
export interface AcceptInput {
  envelope: Envelope;
  /** Trace headers (Received…) stored in front of the body. */
  prefix?: Buffer;
  /** The message bytes as received. */
  body: AsyncIterable<Buffer | Uint8Array> | Buffer;
  /** Verdicts the ingress already computed (end-of-DATA check): stored, and not computed again. */
  auth?: AuthVerdicts;
}

/** What {@link Pipeline.recover} queued. */
export interface RecoveryReport {
  /** Recorded messages whose processing had not finished. */
  resumed: string[];
  /** Raw messages that had no record (crash between storing and recording), now recorded. */
  orphans: string[];
}

export interface Pipeline {
  /**
   * Stores the raw bytes durably (envelope first), records the message as received and queues it.
   * Resolves once both are durable: only then may an ingress answer `250`.
   * @throws when storing or recording failed (the ingress answers `451 4.3.0`), or after `close()`.
   */
  accept(input: AcceptInput): Promise<{ id: string }>;
  /** Queues one recorded message and resolves with its final status; null for an unknown id. */
  process(id: string): Promise<MessageStatus | null>;
  /**
   * Re-runs a message with the current code and config: failed and pending deliveries are tried again
   * (with a fresh set of attempts); delivered and dropped ones are never repeated. Null for an unknown id.
   */
  replay(id: string): Promise<MessageStatus | null>;
  /** Replays every failed message. */
  replayFailed(): Promise<Array<{ id: string; status: MessageStatus | null }>>;
  /** Ids of failed messages, oldest first. */
  listFailed(): Promise<string[]>;
  /** Queues every unfinished message and every raw message without a record. Call once at start. */
  recover(): Promise<RecoveryReport>;
  /** Resolves once the queue is empty and no message is being processed. */
  drain(): Promise<void>;
  /**
   * Stops taking work: waiting messages stay unfinished (recovered next start), retry waits end at once,
   * actions already running finish. Does not close the stores (the caller owns them).
   */
  close(): Promise<void>;
  /** Subscribes to pipeline events; returns the unsubscribe function. */
  onEvent(listener: PipelineEventListener): () => void;
}

/** The envelope fields worth keeping (no stray properties from an ingress). */
function cleanEnvelope(envelope: Envelope): Envelope {
  const clean: Envelope = { mailFrom: envelope.mailFrom, rcptTo: [...envelope.rcptTo] };
  if (envelope.remoteAddress !== undefined) clean.remoteAddress = envelope.remoteAddress;
  if (envelope.helo !== undefined) clean.helo = envelope.helo;
  return clean;
}

/** Envelope recipients without duplicates (compared case-insensitively), in order. */
function uniqueRecipients(rcptTo: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const r of rcptTo) {
    const k = r.toLowerCase();
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(r);
  }
  return out;
}

function describe(d: DeliveryRecord): string {
  const what =
    d.action === 'mailbox' ? `mailbox ${d.mailbox}` : d.target ? `${d.action} ${d.target}` : d.action;
  return `${what} for ${d.recipients.join(', ')}`;
}

/**
 * The processing core shared by every local ingress: accept → store raw → record → queue → parse → route →
 * deliver (idempotent, retried with backoff) → record outcome and trace.
 */
export function createPipeline(deps: PipelineDeps): Pipeline {
  const { config, rawStore, store } = deps;
  const logger = deps.logger ?? silentLogger;
  const now = deps.now ?? (() => new Date());
  const random = deps.random ?? Math.random;
  const replyFrom = deps.replyFrom === undefined ? undefined : parseSenderAddress(deps.replyFrom);
  // One count of ctx.reply sends for every delivery this pipeline runs (in memory: per process).
  const replyLimiter = new ReplyRateLimiter(config.outbound?.replyLimits, () => now().getTime());
  const router = routerFromConfig(config);
  const listeners = new Set<PipelineEventListener>();
  const abort = new AbortController();
  /** Ids between raw put and record, so `recover()` does not take them for orphans. */
  const accepting = new Set<string>();
  /**
   * Messages whose outcome the store refused to record (a full disk): run again after a backoff instead of
   * staying `processing` until a restart. By id: the pending timer and the failures in a row.
   */
  const unrecorded = new Map<string, { timer: NodeJS.Timeout; failures: number }>();
  let closed = false;

  const retryUnrecorded = (id: string) => {
    const failures = (unrecorded.get(id)?.failures ?? 0) + 1;
    clearTimeout(unrecorded.get(id)?.timer);
    const delay = backoffDelay(failures, config.delivery, random);
    const timer = setTimeout(() => {
      if (!closed) schedule(id);
    }, delay);
    timer.unref();
    unrecorded.set(id, { timer, failures });
  };
  const recorded = (id: string) => {
    clearTimeout(unrecorded.get(id)?.timer);
    unrecorded.delete(id);
  };

  const emit = (event: PipelineEvent) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (err) {
        logger.warn('pipeline event listener threw', { error: errorText(err), type: event.type });
      }
    }
  };

  const trace = async (id: string, step: string, detail: string) => {
    try {
      await store.addTrace(id, step, detail);
    } catch (err) {
      logger.warn('could not write trace entry', { id, step, error: errorText(err) });
    }
  };

  const putDelivery = async (d: DeliveryRecord) => {
    d.updatedAt = now().toISOString();
    await store.putDelivery(d);
    const delivery: Extract<PipelineEvent, { type: 'delivery.updated' }>['delivery'] = {
      key: d.key,
      recipient: d.recipient,
      recipients: d.recipients,
      route: d.route,
      action: d.action,
      status: d.status,
      attempts: d.attempts,
    };
    if (d.mailbox !== undefined) delivery.mailbox = d.mailbox;
    if (d.error !== undefined) delivery.error = d.error;
    emit({ type: 'delivery.updated', id: d.messageId, at: d.updatedAt, delivery });
  };

  /** Runs one delivery until it succeeds, runs out of tries, or the pipeline closes. */
  const deliver = async (
    d: DeliveryRecord,
    planned: PlannedDelivery,
    ctx: { id: string; envelope: Envelope; message: ParsedMessage; auth: AuthVerdicts; raw: Buffer },
  ): Promise<void> => {
    const action = planned.action;
    if (!action) return;
    const tries = config.delivery.attempts;
    for (let n = 1; n <= tries; n++) {
      if (abort.signal.aborted) return;
      d.attempts += 1;
      try {
        const outcome = await runAction(action, {
          messageId: ctx.id,
          envelope: ctx.envelope,
          recipient: d.recipient,
          recipients: d.recipients,
          message: ctx.message,
          auth: ctx.auth,
          params: d.params,
          raw: ctx.raw,
          route: d.route,
          idempotencyKey: d.key,
          attempt: d.attempts,
          store,
          logger,
          now,
          signal: abort.signal,
          fetch: deps.fetch,
          outbound: deps.outbound,
          replyFrom,
          replyLimiter,
          cloud: deps.cloud,
        });
        d.status = outcome.status;
        delete d.error;
        await putDelivery(d);
        await trace(ctx.id, outcome.status, `${describe(d)}: ${outcome.detail}`);
        return;
      } catch (err) {
        d.error = errorText(err);
        if (n < tries && !abort.signal.aborted) {
          d.status = 'pending';
          await putDelivery(d);
          await trace(ctx.id, 'delivery attempt failed', `attempt ${d.attempts}, ${describe(d)}: ${d.error}`);
          logger.warn('delivery attempt failed', {
            id: ctx.id,
            delivery: d.key,
            attempt: d.attempts,
            error: d.error,
          });
          if (!(await sleep(backoffDelay(n, config.delivery, random), abort.signal))) return;
        } else if (abort.signal.aborted) {
          d.status = 'pending';
          await putDelivery(d);
          return;
        } else {
          d.status = 'failed';
          await putDelivery(d);
          await trace(
            ctx.id,
            'delivery failed',
            `${describe(d)}: gave up after attempt ${d.attempts}: ${d.error}`,
          );
          logger.error('delivery failed', {
            id: ctx.id,
            delivery: d.key,
            attempts: d.attempts,
            error: d.error,
          });
        }
      }
    }
  };

  const markFailed = async (id: string, error: string): Promise<MessageStatus> => {
    try {
      await store.setStatus(id, 'failed');
    } catch (err) {
      logger.error('could not record message failure; retrying the message', { id, error: errorText(err) });
      retryUnrecorded(id);
      return 'processing';
    }
    recorded(id);
    await trace(id, 'failed', error);
    emit({ type: 'message.failed', id, at: now().toISOString(), error });
    return 'failed';
  };

  /**
   * The message's verdicts: those stored by an earlier run (a replay or a resumed message is judged as it
   * was on arrival, not against today's DNS), else computed now from the SMTP transaction and the raw bytes,
   * then stored and traced. Never from the message's headers. Mail without a client address (the dev HTTP
   * API) gets `none` verdicts saying why.
   */
  const authenticate = async (
    id: string,
    raw: Buffer,
    envelope: Envelope,
    stored: AuthVerdicts | null,
  ): Promise<AuthVerdicts> => {
    if (stored && !stored.scanOnly) {
      await trace(id, 'authenticated', `${authSummary(stored)} (verdicts from the first processing)`);
      return stored;
    }
    const ip = envelope.remoteAddress?.trim() ?? '';
    const computed = ip
      ? await authenticateMessage(raw, {
          ip,
          helo: envelope.helo ?? '',
          mailFrom: envelope.mailFrom,
          resolver: config.auth.resolver,
          authservId: config.auth.authservId,
          now: now(),
        })
      : uncheckedVerdicts('not received over SMTP: no client address to check');
    // The ingress scanned the message (rspamd, ClamAV) but left authentication to us: keep its verdicts.
    const auth = stored ? { ...computed, spam: stored.spam, virus: stored.virus } : computed;
    await store.saveAuth(id, auth);
    await trace(
      id,
      'authenticated',
      ip ? authSummary(auth) : `${authSummary(auth)} (not received over SMTP)`,
    );
    return auth;
  };

  /** Processes one message end to end. Never throws for a known id. */
  const run = async (id: string): Promise<MessageStatus | null> => {
    const record = await store.getMessage(id);
    if (!record) return null;
    if (abort.signal.aborted) return record.status;
    try {
      await store.setStatus(id, 'processing');
      let raw: Buffer;
      try {
        raw = await rawStore.get(id);
      } catch (err) {
        return await markFailed(id, `raw message unreadable: ${errorText(err)}`);
      }
      // The record holds the envelope; the raw store's copy is only for recovering a lost record.
      const envelope = { ...record.envelope };
      const message = await parseMessage(raw, config.parse);
      const { threadId } = await store.saveParsed(id, message);
      message.thread = { id: threadId }; // the store may file it in a thread it already holds
      await trace(
        id,
        'parsed',
        `${raw.length} bytes, subject ${JSON.stringify(message.subject ?? '')}` +
          (message.problems.length ? `; problems: ${message.problems.join('; ')}` : ''),
      );

      const auth = await authenticate(id, raw, envelope, record.auth);

      const routingInput = {
        mailFrom: envelope.mailFrom,
        message: { from: message.from, subject: message.subject, headers: message.headers },
        auth,
        // Reply tokens are checked against the arrival time, so a backlog or a replay refuses nothing
        // that RCPT accepted.
        receivedAt: new Date(record.receivedAt),
      };
      const decisions = uniqueRecipients(envelope.rcptTo).map((rcpt) => router.decide(rcpt, routingInput));
      for (const decision of decisions) {
        if (decision.matches.length > 0) {
          await trace(
            id,
            'routed',
            `${decision.recipient} → ${decision.matches.map((m) => m.route).join(', ')}`,
          );
        } else {
          const why = decision.rejected
            ? `${decision.rejected.code} ${decision.rejected.message}`
            : 'no route';
          await trace(id, 'unrouted', `${decision.recipient}: ${why}`);
        }
      }

      const plan = planDeliveries(id, decisions);
      const work: Array<{ record: DeliveryRecord; planned: PlannedDelivery }> = [];
      const finals: DeliveryRecord[] = [];
      for (const planned of plan) {
        const existing = await store.getDelivery(planned.key);
        if (existing && (existing.status === 'delivered' || existing.status === 'dropped')) {
          finals.push(existing);
          await trace(id, 'skipped', `${describe(existing)}: already ${existing.status}`);
          continue;
        }
        const d: DeliveryRecord = {
          key: planned.key,
          messageId: id,
          recipient: planned.recipients[0] ?? '',
          recipients: planned.recipients,
          route: planned.route,
          action: planned.kind,
          params: planned.params,
          status: planned.kind === 'none' ? 'unrouted' : planned.kind === 'reject' ? 'rejected' : 'pending',
          attempts: existing?.attempts ?? 0,
          updatedAt: '',
        };
        const target = planned.action ? actionTarget(planned.action) : undefined;
        if (target !== undefined && planned.kind !== 'mailbox') d.target = target;
        if (planned.action?.kind === 'mailbox') d.mailbox = planned.action.mailbox;
        if (planned.reason !== undefined) d.error = planned.reason;
        else if (existing?.error !== undefined) d.error = existing.error;
        await putDelivery(d);
        finals.push(d);
        if (d.status === 'pending') work.push({ record: d, planned });
        else if (d.status === 'rejected') await trace(id, 'rejected', `${d.recipient}: ${d.error}`);
      }

      await Promise.all(work.map((w) => deliver(w.record, w.planned, { id, envelope, message, auth, raw })));

      if (finals.some((d) => d.status === 'pending')) return 'processing'; // closing: resumed on next start
      if (finals.some((d) => d.status === 'failed')) {
        const failed = finals.filter((d) => d.status === 'failed').length;
        return await markFailed(id, `${failed} of ${finals.length} deliveries failed`);
      }
      await store.setStatus(id, 'processed');
      recorded(id);
      await trace(id, 'processed', `${finals.length} deliveries`);
      emit({ type: 'message.processed', id, at: now().toISOString() });
      return 'processed';
    } catch (err) {
      logger.error('processing failed', { id, error: errorText(err) });
      return await markFailed(id, `processing error: ${errorText(err)}`);
    }
  };

  const queue = new WorkQueue<MessageStatus | null>(config.delivery.concurrency, run);

  const schedule = (id: string): void => {
    queue.push(id).catch((err) => {
      if (closed) return;
      logger.error('queued processing failed; retrying the message', { id, error: errorText(err) });
      retryUnrecorded(id);
    });
  };
  const gate = new IngestPriorityGate(schedule, config.delivery.processingDelayMaxMs);

  /** For a raw message whose envelope was lost too: recipients from the headers, in our domains. */
  const envelopeFromHeaders = async (raw: Buffer): Promise<Envelope> => {
    const parsed = await parseMessage(raw, config.parse);
    const domains = new Set(config.domains);
    const candidates = [
      ...parsed.headers
        .filter((h) => h.key === 'delivered-to' || h.key === 'x-original-to')
        .map((h) => h.value.trim()),
      ...parsed.to.map((a) => a.address),
      ...parsed.cc.map((a) => a.address),
    ];
    const rcptTo = uniqueRecipients(
      candidates.filter((a) => domains.has(a.slice(a.lastIndexOf('@') + 1).toLowerCase())),
    );
    const returnPath = parsed.headers.find((h) => h.key === 'return-path')?.value ?? '';
    return { mailFrom: returnPath.replace(/^\s*<?|>?\s*$/g, ''), rcptTo };
  };

  return {
    async accept(input) {
      if (closed) throw new PipelineError('the pipeline is closed');
      const id = newMessageId();
      accepting.add(id);
      gate.arrival();
      try {
        const { prefix, body } = input;
        let data: Buffer | AsyncIterable<Buffer | Uint8Array>;
        if (Buffer.isBuffer(body)) data = prefix?.length ? Buffer.concat([prefix, body]) : body;
        else if (prefix?.length) {
          data = (async function* () {
            yield prefix;
            yield* body;
          })();
        } else data = body;
        const { size } = await rawStore.put(id, data, { envelope: cleanEnvelope(input.envelope) });
        const receivedAt = now().toISOString();
        const envelope = { mailFrom: input.envelope.mailFrom, rcptTo: [...input.envelope.rcptTo] };
        // Record and first trace entry go in one batched transaction (one event-loop turn, not two).
        await Promise.all([
          store.recordReceived({ id, receivedAt, envelope: input.envelope, size }),
          trace(
            id,
            'received',
            `${size} bytes from <${envelope.mailFrom}> for ${envelope.rcptTo.join(', ')}`,
          ),
          ...(input.auth ? [store.saveAuth(id, input.auth)] : []),
        ]);
        emit({ type: 'message.received', id, at: receivedAt, envelope, size });
      } finally {
        accepting.delete(id);
        gate.stored();
      }
      gate.add(id);
      return { id };
    },

    process(id) {
      return queue.push(id);
    },

    async replay(id) {
      if (!(await store.hasMessage(id))) return null;
      await trace(id, 'replay', 'replay requested');
      return queue.push(id);
    },

    async replayFailed() {
      const ids = await store.listFailed();
      return Promise.all(ids.map(async (id) => ({ id, status: await this.replay(id) })));
    },

    listFailed() {
      return store.listFailed();
    },

    async recover() {
      const resumed = await store.listUnfinished();
      const orphans: string[] = [];
      for (const id of await rawStore.list()) {
        if (accepting.has(id) || (await store.hasMessage(id))) continue;
        try {
          const raw = await rawStore.get(id);
          let envelope = await rawStore.getEnvelope(id).catch(() => null);
          let how = 'envelope from its durable record';
          if (!envelope) {
            envelope = await envelopeFromHeaders(raw);
            how = 'envelope lost: recipients taken from To/Cc/Delivered-To headers in our domains';
          }
          await store.recordReceived({ id, receivedAt: now().toISOString(), envelope, size: raw.length });
          await trace(id, 'recovered', `stored message had no record; ${how}`);
          orphans.push(id);
        } catch (err) {
          logger.error('could not recover stored message', { id, error: errorText(err) });
        }
      }
      for (const id of [...resumed, ...orphans]) schedule(id);
      if (resumed.length || orphans.length)
        logger.info('recovering messages', { resumed: resumed.length, orphans: orphans.length });
      return { resumed, orphans };
    },

    drain() {
      gate.flush();
      return queue.idle();
    },

    async close() {
      if (closed) return queue.idle();
      closed = true;
      for (const id of [...unrecorded.keys()]) recorded(id);
      gate.clear(); // recorded as received: the next start's recovery processes them
      abort.abort();
      queue.close();
      await queue.idle();
    },

    onEvent(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
