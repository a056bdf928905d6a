/** What the server waits for from the client; each state has its own timeout. */
export type WaitState = 'greeting' | 'idle' | 'mail' | 'rcpt' | 'dataInitiation' | 'dataBlock';

/** How our timeout reply (`421 4.4.2`) names what the server waited for, by state. */
export const WAITING_FOR: Record<WaitState, string> = {
  greeting: 'the first command',
  idle: 'a command',
  mail: 'a command after MAIL',
  rcpt: 'a command after RCPT',
  dataInitiation: 'the message after 354',
  dataBlock: 'the rest of the message',
};

/** A snapshot of one session's progress, in ms and bytes. */
export interface SessionActivity {
  state: WaitState;
  /** The guard has refused the session (a `421` went out); it is on its way out. */
  closed: boolean;
  /** The end of DATA was seen and our reply is not out yet (the store or the check is working). */
  awaitingReply: boolean;
  /** Between our `354` and the end of DATA. */
  inData: boolean;
  ageMs: number;
  /** Since the last complete command line (or the end of the last DATA, or the greeting). */
  sinceCommandMs: number;
  /** Message bytes of the current DATA so far. */
  dataBytes: number;
  /** Of the current DATA, how long we have waited for the client's bytes. */
  dataWaitMs: number;
}

/**
 * Times one session: its age, the time since its last complete command, and, for the current DATA, its
 * bytes and the time spent waiting for them. The data rate is judged on that waiting time only, so a
 * slow store (we stop reading) never counts against the client.
 */
export class SessionClock {
  readonly #startedAt = performance.now();
  #lastCommandAt = this.#startedAt;
  #dataBytes = 0;
  #clientWaitMs = 0;
  /** When the client's input last ran dry (0 while we have its bytes to work on). */
  #dryAt = 0;

  /** A complete command line (or the end of DATA) arrived. */
  commandArrived(): void {
    this.#lastCommandAt = performance.now();
  }

  /** The first byte of a message arrived. */
  dataStarted(): void {
    this.#dataBytes = 0;
    this.#clientWaitMs = 0;
  }

  dataArrived(bytes: number): void {
    this.#dataBytes += bytes;
  }

  /** Everything the client sent has been worked through: from now on we wait for it. */
  inputRanDry(): void {
    if (!this.#dryAt) this.#dryAt = performance.now();
  }

  /** Bytes from the client are in. */
  inputArrived(): void {
    if (this.#dryAt) {
      this.#clientWaitMs += performance.now() - this.#dryAt;
      this.#dryAt = 0;
    }
  }

  read(now: number): Pick<SessionActivity, 'ageMs' | 'sinceCommandMs' | 'dataBytes' | 'dataWaitMs'> {
    return {
      ageMs: now - this.#startedAt,
      sinceCommandMs: now - this.#lastCommandAt,
      dataBytes: this.#dataBytes,
      dataWaitMs: this.#clientWaitMs + (this.#dryAt ? now - this.#dryAt : 0),
    };
  }
}
