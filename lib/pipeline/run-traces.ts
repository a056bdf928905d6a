import { type ProcessingPorts, trace } from './ports.ts';

/**
 * The trace entries of one processing run of one message. With a store that applies its writes in call
 * order (`MessageRecords.ordersWrites`: SQLite), an entry does not hold the run up: it is written with the
 * run's next write, in order, instead of in a write (and a transaction) of its own; {@link settled} waits
 * for every one. With any other store each entry is written before `add` resolves. A failed entry is
 * logged, never thrown (see {@link trace}).
 */
export class RunTraces {
  readonly #ports: ProcessingPorts;
  readonly #id: string;
  readonly #pending: Array<Promise<void>> = [];

  constructor(ports: ProcessingPorts, id: string) {
    this.#ports = ports;
    this.#id = id;
  }

  async add(step: string, detail: string): Promise<void> {
    const written = trace(this.#ports, this.#id, step, detail);
    if (this.#ports.store.ordersWrites === true) this.#pending.push(written);
    else await written;
  }

  /** Resolves once every entry added so far is written (or its failure logged). */
  async settled(): Promise<void> {
    while (this.#pending.length > 0) await Promise.all(this.#pending.splice(0));
  }
}
