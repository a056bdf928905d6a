import type { Logger } from '../kernel/index.ts';
import type { InputGuard } from './input-guard.ts';
import { clientKey, networkKey } from './limits.ts';
import type { SessionActivity, WaitState } from './session-activity.ts';

/** The limits that keep a few clients from holding the server's connection slots. */
export interface SlotLimits {
  maxClients: number;
  maxClientsPerIp: number;
  maxClientsPerNetwork: number;
  /** Longest session; a session waiting for a command past it gets `421 4.4.2`. 0: no limit. */
  maxSessionMs: number;
  /** Slowest acceptable DATA, measured on the time spent waiting for the client. 0: no minimum. */
  minDataRateBytesPerSecond: number;
  /** Waiting time a DATA may spend before the minimum rate applies. */
  dataRateGraceMs: number;
  /** Per wait state, how long the next complete command may take (a byte a second does not extend it). */
  timeouts: Record<WaitState, number>;
  /** Under pressure, a session idle at least this long may be closed to make room. */
  evictIdleAfterMs: number;
}

/** One live session as the keeper sees it. */
export interface Slot {
  id: string;
  remoteAddress: string;
  guard: InputGuard;
  /** Exempt from the per-address shares (limitExemptIps). */
  exempt: boolean;
}

/** Why a new connection cannot have a slot. */
export type SlotRefusal = 'maxClients' | 'maxClientsPerIp' | 'maxClientsPerNetwork';

/**
 * Keeps the SMTP server's connection slots for senders that use them (issue: one client must never lock
 * everyone else out):
 *
 * - **Shares.** A new connection is admitted only while its address (IPv4, or IPv6 /64) holds fewer than
 *   `maxClientsPerIp` slots and its network (IPv4 /24, IPv6 /48) fewer than `maxClientsPerNetwork`, so a
 *   handful of addresses cannot fill `maxClients`.
 * - **Pressure.** When every slot is taken, the session that has waited longest for its next command
 *   (at least `evictIdleAfterMs`) is closed to make room; sessions in DATA or awaiting our reply are
 *   never chosen.
 * - **Sweeps** (once a second): a session whose next command has not come within its state's timeout
 *   (measured from the last complete command, so a trickle of bytes does not extend it), a DATA slower
 *   than `minDataRateBytesPerSecond` (Postfix's `smtpd_min_data_rate` idea), and a session older than
 *   `maxSessionMs` (waiting for a command) get `421 4.4.2`.
 */
export class SlotKeeper {
  readonly #limits: SlotLimits;
  readonly #logger: Logger;
  readonly #slots = new Map<string, Slot>();
  readonly #timer: NodeJS.Timeout;

  constructor(limits: SlotLimits, logger: Logger, sweepEveryMs = 1000) {
    this.#limits = limits;
    this.#logger = logger;
    this.#timer = setInterval(() => this.sweep(), sweepEveryMs);
    this.#timer.unref();
  }

  /** Live sessions (not counting those already told to go). */
  get size(): number {
    let n = 0;
    for (const slot of this.#slots.values()) if (!slot.guard.activity().closed) n++;
    return n;
  }

  /** Gives `slot` a place, making room if needed; or says which limit refuses it. */
  admit(slot: Slot): SlotRefusal | null {
    let live = 0;
    let sameIp = 0;
    let sameNetwork = 0;
    const ip = clientKey(slot.remoteAddress);
    const network = networkKey(slot.remoteAddress);
    for (const other of this.#slots.values()) {
      if (other.guard.activity().closed) continue;
      live++;
      if (other.exempt) continue;
      if (clientKey(other.remoteAddress) === ip) sameIp++;
      if (networkKey(other.remoteAddress) === network) sameNetwork++;
    }
    if (!slot.exempt) {
      if (sameIp >= this.#limits.maxClientsPerIp) return 'maxClientsPerIp';
      if (sameNetwork >= this.#limits.maxClientsPerNetwork) return 'maxClientsPerNetwork';
    }
    if (live >= this.#limits.maxClients && !this.#evictIdlest()) return 'maxClients';
    this.#slots.set(slot.id, slot);
    return null;
  }

  release(id: string): void {
    this.#slots.delete(id);
  }

  /** Closes the sessions past a time limit or below the data rate. */
  sweep(now = performance.now()): void {
    for (const slot of this.#slots.values()) {
      const activity = slot.guard.activity(now);
      if (activity.closed || activity.awaitingReply) continue;
      const why = this.#overdue(activity);
      if (!why) continue;
      this.#logger.info('smtp session closed', { session: slot.id, remoteAddress: slot.remoteAddress, why });
      slot.guard.close(`4.4.2 ${why}, closing connection`, why);
    }
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #overdue(activity: SessionActivity): string | null {
    const limits = this.#limits;
    if (activity.inData) {
      const rate = limits.minDataRateBytesPerSecond;
      const waited = activity.dataWaitMs - limits.dataRateGraceMs;
      if (
        activity.state === 'dataBlock' &&
        rate > 0 &&
        waited > 0 &&
        activity.dataBytes < (rate * waited) / 1000
      ) {
        return `Message data arriving too slowly (under ${rate} bytes/s)`;
      }
      return null;
    }
    if (limits.maxSessionMs > 0 && activity.ageMs > limits.maxSessionMs) return 'Session lasted too long';
    if (activity.sinceCommandMs > limits.timeouts[activity.state]) return 'Timeout waiting for a command';
    return null;
  }

  /** Closes the session idle longest (if idle long enough); true when a slot was freed. */
  #evictIdlest(): boolean {
    let idlest: Slot | null = null;
    let longest = this.#limits.evictIdleAfterMs;
    for (const slot of this.#slots.values()) {
      const activity = slot.guard.activity();
      if (activity.closed || activity.inData || activity.awaitingReply) continue;
      if (activity.sinceCommandMs >= longest) {
        longest = activity.sinceCommandMs;
        idlest = slot;
      }
    }
    if (!idlest) return false;
    this.#logger.info('smtp idle session closed to make room', {
      session: idlest.id,
      remoteAddress: idlest.remoteAddress,
      idleMs: Math.round(longest),
    });
    idlest.guard.close('4.7.0 Server busy, closing idle connection', 'evicted');
    return true;
  }
}
