import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { errorText, PostBatcher, startModuleWorker, transferableCopy, unbatch } from '../kernel/index.ts';
import type { FromWorker, OwnResolver, ToWorker } from './auth-worker-protocol.ts';
import type { DataTimeInspection, DataTimeRequest } from './data-time-inspect.ts';
import type { DnsResolver } from './dns-resolver.ts';
import { recipeOf } from './resolver-recipe.ts';

export interface AuthWorkerPoolOptions {
  /**
   * Worker threads, started on demand. Each runs many checks at once (they mostly wait for DNS).
   * @default 1, or 2 with more than 2 cores
   */
  size?: number;
  /**
   * Longest a check may take, DNS included; past it the check reports `deferred` and its worker must answer
   * a ping within `livenessMs` or be replaced.
   * @default 15000
   */
  deadlineMs?: number;
  /** @default 2000 */
  livenessMs?: number;
  /**
   * V8 heap (old generation) of each worker, in MiB: a message that needs more ends only its worker, whose
   * checks report `deferred`.
   * @default 256
   */
  heapMb?: number;
}

/** A check's result, or why there is none (the message is then accepted unchecked; processing checks it). */
export type PoolOutcome =
  | { deferred: false; inspection: DataTimeInspection }
  | { deferred: true; reason: string };

interface Job {
  resolver: DnsResolver;
  settle: (outcome: PoolOutcome) => void;
  timer: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  /** What this turn posts to the worker, sent as one message at its end. */
  out: PostBatcher<ToWorker>;
  /** Settles once the worker has loaded (or has stopped). */
  ready: Promise<void>;
  jobs: Map<number, Job>;
  /** The resolver recipes this worker was given (by id). */
  recipes: Set<number>;
  stopped: boolean;
  ping: { seq: number; timer: NodeJS.Timeout } | null;
}

/** The worker's module, beside this one (`.ts` in the sources, `.js` compiled). */
function workerEntry(): string {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return new URL(`./data-time-worker.${ext}`, import.meta.url).href;
}

const deferred = (reason: string): PoolOutcome => ({ deferred: true, reason });

/**
 * Runs end-of-DATA checks ({@link inspectAtDataTime}) in worker threads, so that no message's content
 * costs the SMTP event loop time. A worker answers DNS questions itself when the resolver has a
 * {@link ResolverRecipe} (the static and system resolvers do); any other resolver is asked in the main
 * thread, each question crossing to it and back. A check past its deadline, or whose worker crashed,
 * reports `deferred`; a worker that stops answering is replaced. Idle workers do not keep the process alive.
 */
export class AuthWorkerPool {
  readonly #size: number;
  readonly #deadlineMs: number;
  readonly #livenessMs: number;
  readonly #heapMb: number;
  readonly #slots: Slot[] = [];
  /** Ids of the resolvers with a recipe that checks were given. */
  readonly #recipeIds = new WeakMap<DnsResolver, number>();
  #nextId = 0;
  #closed = false;

  constructor(options: AuthWorkerPoolOptions = {}) {
    this.#size = Math.max(1, options.size ?? (availableParallelism() > 2 ? 2 : 1));
    this.#deadlineMs = options.deadlineMs ?? 15_000;
    this.#livenessMs = options.livenessMs ?? 2_000;
    this.#heapMb = options.heapMb ?? 256;
  }

  /** Checks one message in a worker; never rejects. `raw` is copied once and left as it is. */
  inspect(raw: Buffer, request: DataTimeRequest, resolver: DnsResolver): Promise<PoolOutcome> {
    if (this.#closed) return Promise.resolve(deferred('the authentication pool is closed'));
    const slot = this.#pick();
    const id = ++this.#nextId;
    const copy = transferableCopy(raw);
    return new Promise<PoolOutcome>((settle) => {
      const timer = setTimeout(() => this.#missedDeadline(slot, id), this.#deadlineMs).unref();
      slot.jobs.set(id, { resolver, settle, timer });
      slot.worker.ref(); // a check in progress keeps the process up
      const own = this.#ownResolver(slot, resolver);
      this.#post(slot, { type: 'inspect', id, raw: copy, request, ...(own ? { resolver: own } : {}) }, [
        copy,
      ]);
    });
  }

  /** The worker makes `resolver` itself when it has a recipe; the recipe goes once to each worker. */
  #ownResolver(slot: Slot, resolver: DnsResolver): OwnResolver | undefined {
    const recipe = recipeOf(resolver);
    if (!recipe) return undefined;
    let id = this.#recipeIds.get(resolver);
    if (id === undefined) {
      id = ++this.#nextId;
      this.#recipeIds.set(resolver, id);
    }
    if (slot.recipes.has(id)) return { id };
    slot.recipes.add(id);
    return { id, recipe };
  }

  /**
   * Starts a worker ahead of the first check (loading takes a moment, and counts against that check's
   * deadline otherwise); resolves once it is ready, or gone.
   */
  warm(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return (this.#slots[0] ?? this.#spawn()).ready;
  }

  /** Workers running, and checks in progress. */
  stats(): { workers: number; checks: number } {
    return { workers: this.#slots.length, checks: this.#slots.reduce((n, s) => n + s.jobs.size, 0) };
  }

  /** Ends every worker; checks in progress and later ones report `deferred`. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#slots].map((slot) => this.#stop(slot, 'the authentication pool is closed')));
  }

  #pick(): Slot {
    const idle = this.#slots.find((s) => s.jobs.size === 0);
    if (idle) return idle;
    if (this.#slots.length < this.#size) return this.#spawn();
    return this.#slots.reduce((a, b) => (b.jobs.size < a.jobs.size ? b : a));
  }

  #spawn(): Slot {
    const worker = startModuleWorker(workerEntry(), {
      resourceLimits: { maxOldGenerationSizeMb: this.#heapMb },
    });
    worker.unref();
    let loaded = () => {};
    const ready = new Promise<void>((resolve) => {
      loaded = resolve;
    });
    const slot: Slot = {
      worker,
      // Only a DNS answer can fail to clone (a resolver returning functions or the like): it fails instead.
      out: new PostBatcher<ToWorker>(worker, (err, msg) => {
        if (msg.type === 'dns' && msg.ok) {
          this.#post(slot, { type: 'dns', q: msg.q, ok: false, code: 'ESERVFAIL', message: errorText(err) });
        }
      }),
      ready,
      jobs: new Map(),
      recipes: new Set(),
      stopped: false,
      ping: null,
    };
    worker.on('message', (data: FromWorker | FromWorker[]) => {
      for (const msg of unbatch(data)) {
        if (msg.type === 'ready') loaded();
        else this.#onMessage(slot, msg);
      }
    });
    worker.once('exit', loaded);
    worker.on('error', (err) => void this.#stop(slot, `authentication worker failed: ${errorText(err)}`));
    worker.on('exit', (code) => void this.#stop(slot, `authentication worker exited with code ${code}`));
    this.#slots.push(slot);
    return slot;
  }

  #onMessage(slot: Slot, msg: FromWorker): void {
    if (msg.type === 'dns') this.#answer(slot, msg);
    else if (msg.type === 'done') this.#finish(slot, msg.id, { deferred: false, inspection: msg.inspection });
    else if (msg.type === 'failed')
      this.#finish(slot, msg.id, deferred(`authentication failed: ${msg.message}`));
    else if (msg.type === 'pong' && slot.ping?.seq === msg.seq) {
      clearTimeout(slot.ping.timer);
      slot.ping = null;
    }
  }

  /** Asks the resolver in this thread; a question of a job given up on is not answered (the worker dropped it). */
  #answer(slot: Slot, msg: Extract<FromWorker, { type: 'dns' }>): void {
    const job = slot.jobs.get(msg.id);
    if (!job) return;
    Promise.resolve()
      .then(() => job.resolver(msg.name, msg.rrtype))
      .then(
        (answer) => this.#post(slot, { type: 'dns', q: msg.q, ok: true, answer }),
        (err: { code?: unknown }) => {
          const code = typeof err?.code === 'string' ? err.code : undefined;
          this.#post(slot, { type: 'dns', q: msg.q, ok: false, code, message: errorText(err) });
        },
      );
  }

  #post(slot: Slot, msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    if (!slot.stopped) slot.out.post(msg, transfer);
  }

  #finish(slot: Slot, id: number, outcome: PoolOutcome): void {
    const job = slot.jobs.get(id);
    if (!job) return;
    slot.jobs.delete(id);
    clearTimeout(job.timer);
    if (slot.jobs.size === 0) slot.worker.unref();
    job.settle(outcome);
  }

  /**
   * A check ran past its deadline: it reports `deferred` now. Its worker may just be waiting for DNS (then
   * its other checks go on), or be stuck on the CPU: unless it answers a ping in time, it is replaced.
   */
  #missedDeadline(slot: Slot, id: number): void {
    this.#finish(slot, id, deferred(`authentication did not finish within ${this.#deadlineMs} ms`));
    this.#post(slot, { type: 'cancel', id });
    if (slot.stopped || slot.ping) return;
    const seq = ++this.#nextId;
    const timer = setTimeout(
      () => void this.#stop(slot, 'authentication worker stopped responding'),
      this.#livenessMs,
    ).unref();
    slot.ping = { seq, timer };
    this.#post(slot, { type: 'ping', seq });
  }

  /** Ends a worker (once): its checks report `deferred` with `reason`; the next check starts a new one. */
  async #stop(slot: Slot, reason: string): Promise<void> {
    if (slot.stopped) return;
    slot.stopped = true;
    const at = this.#slots.indexOf(slot);
    if (at >= 0) this.#slots.splice(at, 1);
    if (slot.ping) clearTimeout(slot.ping.timer);
    for (const id of [...slot.jobs.keys()]) this.#finish(slot, id, deferred(reason));
    await slot.worker.terminate();
  }
}
